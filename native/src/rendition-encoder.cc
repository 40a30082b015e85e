#include "rendition-encoder.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "codec-string.h"
#include "log-router.h"
#include "thread-start.h"

namespace abrcast {

namespace {

// Frames waiting between the filter graph and one encoder.
constexpr size_t kScaledFrameQueue = 3;
// Encoded video that may wait for its audio (packets, so a few MB per rendition).
constexpr int64_t kMaxAudioLagSeconds = 20;

void setOption(AVDictionary** options, const char* key, const std::string& value) {
  av_dict_set(options, key, value.c_str(), 0);
}

// The rendition whose pictures become the thumbnails: the smallest (the first of equals).
bool makesThumbnails(const EncoderConfig& config, int index) {
  if (config.thumbnailWidth <= 0) return false;
  int smallest = 0;
  for (size_t i = 1; i < config.renditions.size(); ++i) {
    const RenditionConfig& r = config.renditions[i];
    const RenditionConfig& s = config.renditions[size_t(smallest)];
    if (int64_t(r.width) * r.height < int64_t(s.width) * s.height) smallest = int(i);
  }
  return index == smallest;
}

}  // namespace

RenditionEncoder::RenditionEncoder(int index, const EncoderConfig& config, AVFilterContext* sink, AudioPipeline* audio,
                                   PipelineEvents* events, FailureHandler onFailure)
    : index_(index),
      config_(config),
      rendition_(config.renditions[index]),
      audio_(audio),
      events_(events),
      onFailure_(std::move(onFailure)),
      packet_(allocPacket()),
      queue_(kScaledFrameQueue),
      cutter_(rendition_.name, config.framesPerSegment, config.framesPerPart) {
  const bool nvenc = config.encoder == EncoderKind::Nvenc;
  const char* codecName = nvenc ? "h264_nvenc" : "libx264";
  const std::string where = " for rendition " + rendition_.name;
  const AVCodec* codec = avcodec_find_encoder_by_name(codecName);
  if (!codec) throw FFmpegError(std::string("Cannot find encoder ") + codecName + where + ": this FFmpeg was built without it");

  codec_.reset(avcodec_alloc_context3(codec));
  if (!codec_) throw std::bad_alloc();
  AVCodecContext* c = codec_.get();
  logContext_ = std::make_unique<ScopedLogContext>(c, events, "[" + rendition_.name + "] ");
  c->width = av_buffersink_get_w(sink);
  c->height = av_buffersink_get_h(sink);
  c->pix_fmt = static_cast<AVPixelFormat>(av_buffersink_get_format(sink));
  c->sample_aspect_ratio = AVRational{1, 1};
  c->time_base = config.timeBase();
  c->framerate = config.frameRate;
  // The Python original's rate control: maxrate 1.5x and a 2x buffer.
  c->bit_rate = int64_t(rendition_.bitrateKbps) * 1000;
  c->rc_max_rate = c->bit_rate * 3 / 2;
  c->rc_buffer_size = int(c->bit_rate * 2);
  // Keyframes come only where we force them, on the same frame in every rendition.
  c->gop_size = config.framesPerSegment;
  c->keyint_min = config.framesPerSegment;
  c->color_primaries = AVCOL_PRI_BT709;
  c->color_trc = AVCOL_TRC_BT709;
  c->colorspace = AVCOL_SPC_BT709;
  c->color_range = AVCOL_RANGE_MPEG;

  AVDictionary* options = nullptr;
  DictionaryPtr ownedOptions;  // frees what avcodec_open2 leaves, however this ends
  setOption(&options, "forced-idr", "1");
  if (nvenc) {
    if (AVBufferRef* frames = av_buffersink_get_hw_frames_ctx(sink)) {
      c->hw_frames_ctx = av_buffer_ref(frames);
      if (!c->hw_frames_ctx) throw std::bad_alloc();
    }
    setOption(&options, "preset", config.nvencPreset);
    setOption(&options, "tune", config.nvencTune);
    setOption(&options, "profile", "high");
    setOption(&options, "rc", "vbr");
    setOption(&options, "no-scenecut", "1");
    setOption(&options, "strict_gop", "1");
    if (config.lowLatency) {
      // latency: 'low': no reordering delay, and each frame's packet out as soon as it is encoded.
      setOption(&options, "zerolatency", "1");
      setOption(&options, "delay", "0");
    }
    // No B-frames: packets leave in presentation order, as on the CPU path's cut logic expects nothing else.
    c->max_b_frames = 0;
  } else {
    setOption(&options, "preset", config.x264Preset);
    // latency: 'low': no lookahead, no B-frames, sliced threads instead of frame threads.
    if (config.lowLatency) setOption(&options, "tune", "zerolatency");
    setOption(&options, "profile", "high");
    // Under `shortest` the renditions agree on an exact end at a point where every one's B-frames
    // are complete (AudioPipeline::agreeEnd): a fixed B-frame pattern gives them the same points.
    const bool sameFrameTypes = audio && config.audio.shortest;
    // From the encoder's share of the process's thread budget (thread-budget.h).
    const std::vector<int>& planned = config.threads.x264Threads;
    const int x264Threads = size_t(index) < planned.size() ? planned[size_t(index)] : 1;
    const std::string threads = ":threads=" + std::to_string(x264Threads);
    setOption(&options, "x264-params", std::string(sameFrameTypes ? "scenecut=0:open-gop=0:b-adapt=0" : "scenecut=0:open-gop=0") + threads);
  }
  // fMP4 keeps SPS/PPS in the init segment's avcC: the encoder hands them over as extradata.
  if (config.container == Container::Fmp4) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  for (const auto& [key, value] : config.encoderOptions) setOption(&options, key.c_str(), value);
  const int opened = avcodec_open2(c, codec, &options);
  ownedOptions.reset(options);
  if (opened < 0) {
    std::string message = std::string("Cannot open ") + (nvenc ? "NVENC" : "x264") + " encoder" + where + ": " + errorText(opened);
    if (nvenc && index > 0) {
      message += " (encoder session " + std::to_string(index + 1) +
                 " of this run; consumer GPUs cap concurrent NVENC sessions, often at 3 to 8)";
    }
    throw FFmpegError(message);
  }
  // What the encoder did not take would silently change nothing: a typo, or an option this FFmpeg lacks.
  if (options) {
    throw FFmpegError(std::string(nvenc ? "NVENC" : "x264") + " encoder" + where + " does not take the option(s) " +
                      dictionaryKeys(options) + " (FFmpeg " + av_version_info() + ")");
  }
  // A segment's bytes, with MPEG-TS overhead, so its buffer is allocated once.
  const double segmentSeconds = double(config.framesPerSegment) * av_q2d(config.timeBase());
  const double bitsPerSecond = double(c->rc_max_rate) + (audio ? config.audio.bitrateKbps * 1000.0 : 0.0);
  expectedSegmentBytes_ = size_t(std::min(bitsPerSecond / 8 * segmentSeconds * 1.1, 256.0 * 1024 * 1024));
  // Each cut's buffer is sized for what it holds: a part (its Buffer keeps that capacity in JS), or a segment.
  const int framesPerCut = config.framesPerPart > 0 ? config.framesPerPart : config.framesPerSegment;
  const size_t expectedCutBytes = expectedSegmentBytes_ / size_t(config.framesPerSegment) * size_t(framesPerCut);
  segmenter_ = makeSegmenter(config, rendition_.name, c, audio ? audio->encoderContext() : nullptr, expectedCutBytes);
  // With a global header the SPS is in the extradata, not in the keyframes.
  if (c->extradata_size > 0) codecs_ = avcCodecString(c->extradata, size_t(c->extradata_size));
  if (makesThumbnails(config, index)) {
    // config.thumbnailWidth wide at most (never wider than the picture), even, in the picture's aspect.
    const int width = std::max(2, std::min(config.thumbnailWidth, c->width) & ~1);
    const int height = std::max(2, int(std::lround(double(width) * c->height / c->width / 2)) * 2);
    std::string whyNot;
    thumbnails_ = ThumbnailEncoder::open(width, height, c->time_base, whyNot);
    if (!thumbnails_) events_->onWarning("Thumbnails are off: " + whyNot);
  }
}

RenditionEncoder::~RenditionEncoder() {
  abort();
  join();
}

void RenditionEncoder::start() {
  worker_ = startThread("the encoder thread of rendition " + rendition_.name, [this] { run(); });
}

void RenditionEncoder::abort() {
  stop_.requestStop();
  queue_.discard();
}

void RenditionEncoder::join() {
  if (worker_.joinable()) worker_.join();
}

void RenditionEncoder::run() {
  ScopedLogTarget logTarget(events_, "[" + rendition_.name + "] ");
  try {
    emitInit();
    while (auto frame = queue_.pop()) {
      if (stop_.stopRequested()) return;
      encode(frame->get());
    }
    if (stop_.stopRequested()) return;
    encode(nullptr);  // flush the encoder's delayed frames
    if (audio_) {
      const int64_t proposed = audio_->waitProposedEnd();
      if (proposed < 0) return;  // aborted
      drainPending(false);  // what the audio, now complete but for its last frame, covers
      const int64_t end = audio_->agreeEnd(cutter_.exactEndAtOrBefore(proposed, pendingPts()));
      if (end < 0) return;
      if (!audio_->track().waitFinished()) return;
      // Drops the pending packets shown at or after `end`.
      pending_.resize(cutter_.pendingBefore(end, pendingPts()));
      drainPending(true);
      writeAudioBefore(end);
    }
    writeMetadataBefore(cutter_.endPts());
    {
      std::lock_guard<std::mutex> lock(metadataMutex_);
      if (!metadata_.empty()) {
        events_->onWarning("[" + rendition_.name + "] " + std::to_string(metadata_.size()) +
                           " timed metadata item(s) due after the end of the stream were not written");
        metadata_.clear();
      }
    }
    std::vector<uint8_t> last = segmenter_->finish();
    const int64_t endPts = cutter_.endPts();
    const bool partLeft = cutter_.partLeft();  // frames after the last cut (cutIfFull() may have taken them all)
    if (partLeft) emitPart(std::move(last), cutter_.endPart(endPts));
    if (cutter_.segmentHasPackets()) emitSegment(cutter_.endSegment(endPts));
    // Every packet went out with its part; a trailer the muxer writes after that belongs to no frame.
    if (!partLeft && !last.empty()) {
      events_->onWarning("[" + rendition_.name + "] " + std::to_string(last.size()) + " bytes the muxer wrote at the end follow the last part and were left out");
    }
  } catch (const std::exception& error) {
    onFailure_(error.what());
  }
}

void RenditionEncoder::encode(AVFrame* frame) {
  if (frame) {
    // Force an IDR at every segment boundary; forced-idr=1 turns this I into an IDR.
    const bool segmentStart = cutter_.startsSegment(frame->pts);
    frame->pict_type = segmentStart ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    if (segmentStart && thumbnails_) emitThumbnail(frame);
  }
  int sent = avcodec_send_frame(codec_.get(), frame);
  check(sent, "Cannot encode frame for rendition " + rendition_.name);
  for (;;) {
    int received = avcodec_receive_packet(codec_.get(), packet_.get());
    if (received == AVERROR(EAGAIN) || received == AVERROR_EOF) return;
    check(received, "Cannot encode frame for rendition " + rendition_.name);
    handlePacket(packet_.get());
    av_packet_unref(packet_.get());
  }
}

void RenditionEncoder::handlePacket(AVPacket* packet) {
  const bool keyframe = packet->flags & AV_PKT_FLAG_KEY;
  if (keyframe && codecs_.empty()) codecs_ = avcCodecString(packet->data, packet->size);
  cutter_.checkSegmentStart(packet->pts, keyframe, packet->data, size_t(packet->size));
  if (!audio_) {
    writeVideo(packet);
    return;
  }
  PacketPtr owned = allocPacket();
  av_packet_move_ref(owned.get(), packet);
  pending_.push_back(std::move(owned));
  drainPending(false);
}

// Interleaving rule: an audio packet belongs to the segment whose video
// presentation span [IDR pts, next IDR pts) holds its pts. So before a video
// packet is muxed, every audio packet with pts before its dts goes first, and
// before a segment is cut at an IDR, every audio packet with pts before the
// IDR's pts. A video packet waits (in pending_) until that audio exists.

std::vector<int64_t> RenditionEncoder::pendingPts() const {
  std::vector<int64_t> pts;
  pts.reserve(pending_.size());
  for (const PacketPtr& packet : pending_) pts.push_back(packet->pts);
  return pts;
}

void RenditionEncoder::drainPending(bool final) {
  const int64_t limit = audio_->videoFrameLimit();
  const auto shownBeforeLimit = [&](const PacketPtr& p) { return p->pts < limit; };
  while (!pending_.empty()) {
    AVPacket* packet = pending_.front().get();
    if (!final && !shownBeforeLimit(pending_.front()) &&
        std::none_of(pending_.begin() + 1, pending_.end(), shownBeforeLimit)) {
      break;  // maybe past the end: wait for what follows
    }
    // The audio before this packet's dts, and before the cut in front of it, goes first.
    const int64_t until = std::max(packet->dts, cutter_.cutBefore(packet->pts, packet->flags & AV_PKT_FLAG_KEY).pts);
    if (!final && !audio_->track().covers(until, codec_->time_base)) break;
    // shortest: the end may still fall before this frame is over, so it waits until the audio
    // covers all of it (see exactEndAtOrBefore()).
    if (!final && config_.audio.shortest && !audio_->track().covers(packet->pts + 1, codec_->time_base)) break;
    writeVideo(packet);
    pending_.pop_front();
  }
  // Memory stays bounded whatever the caller does: video this far ahead of the audio is an error.
  const size_t maxPending = size_t(std::max<int64_t>(
      2 * config_.framesPerSegment, av_rescale_q(kMaxAudioLagSeconds, AVRational{1, 1}, config_.timeBase())));
  if (!final && pending_.size() > maxPending) {
    const bool pcm = config_.audio.kind == AudioSourceKind::Pcm;
    throw FFmpegError("Rendition " + rendition_.name + ": the video is " + std::to_string(pending_.size()) +
                      " frames ahead of the audio, more than " + std::to_string(kMaxAudioLagSeconds) + " s" +
                      (pcm ? "; write audio alongside the video (writeAudio())" : ""));
  }
  if (!final && !warnedAudioLag_ && pending_.size() > size_t(2 * config_.framesPerSegment)) {
    warnedAudioLag_ = true;
    const bool pcm = config_.audio.kind == AudioSourceKind::Pcm;
    events_->onWarning("[" + rendition_.name + "] video is " + std::to_string(pending_.size()) +
                       " frames ahead of the audio; segments wait for it" + (pcm ? " (writeAudio())" : ""));
  }
}

void RenditionEncoder::writeAudioBefore(int64_t videoPts) {
  audio_->track().takeBefore(index_, videoPts, codec_->time_base, [this](AVPacket* packet) {
    segmenter_->writeAudio(packet, audio_->track().timeBase());
  });
}

void RenditionEncoder::addMetadata(const TimedMetadata& metadata) {
  std::lock_guard<std::mutex> lock(metadataMutex_);
  // Kept in time order (stable: equal times keep their order of arrival).
  auto at = std::upper_bound(metadata_.begin(), metadata_.end(), metadata.time,
                             [](double time, const TimedMetadata& item) { return time < item.time; });
  metadata_.insert(at, metadata);
}

// Timed metadata goes with the picture it belongs to, as audio does: an item shown before a cut
// goes into the part or segment that ends there, and one due before a packet's dts ahead of it.
void RenditionEncoder::writeMetadataBefore(int64_t videoPts) {
  const double until = double(videoPts) * av_q2d(codec_->time_base);
  std::vector<TimedMetadata> due;
  {
    std::lock_guard<std::mutex> lock(metadataMutex_);
    if (metadata_.empty() || metadata_.front().time >= until) return;
    auto end = std::lower_bound(metadata_.begin(), metadata_.end(), until,
                                [](const TimedMetadata& item, double time) { return item.time < time; });
    due.assign(std::make_move_iterator(metadata_.begin()), std::make_move_iterator(end));
    metadata_.erase(metadata_.begin(), end);
  }
  for (const TimedMetadata& item : due) segmenter_->writeMetadata(item);
}

void RenditionEncoder::emitThumbnail(const AVFrame* frame) {
  ThumbnailOutput thumbnail;
  try {
    thumbnail.data = thumbnails_->encode(frame);
  } catch (const std::exception& error) {
    // A picture nobody needs to play the stream: never worth failing the run for.
    events_->onWarning("[" + rendition_.name + "] Thumbnails are off: " + error.what());
    thumbnails_.reset();
    return;
  }
  thumbnail.rendition = index_;
  thumbnail.segmentIndex = int(frame->pts / config_.framesPerSegment);
  thumbnail.startFrame = frame->pts;
  thumbnail.width = thumbnails_->width();
  thumbnail.height = thumbnails_->height();
  events_->onThumbnail(std::move(thumbnail));
}

void RenditionEncoder::writeVideo(AVPacket* packet) {
  const SegmentCutter::Cut cut = cutter_.cutBefore(packet->pts, packet->flags & AV_PKT_FLAG_KEY);
  if (cut) {
    if (audio_) writeAudioBefore(cut.pts);
    writeMetadataBefore(cut.pts);
    cutAt(cut);
  }
  if (audio_) writeAudioBefore(packet->dts);
  writeMetadataBefore(packet->dts);
  cutter_.written(packet->pts);
  // One frame, in ticks: fMP4 writes each sample's duration, and a fragment is flushed before the
  // next packet says where this one ends.
  if (packet->duration <= 0) packet->duration = 1;
  segmenter_->write(packet, codec_->time_base);
  cutIfFull();
}

// A part or segment whose frames are all muxed is cut at once, not when the next packet arrives:
// a frame interval (and that frame's encoding) sooner, which is what a low-latency viewer waits on.
// Only when the audio before its end is there too; otherwise cutBefore() cuts it later.
void RenditionEncoder::cutIfFull() {
  const SegmentCutter::Cut cut = cutter_.cutWhenFull();
  if (!cut) return;
  if (audio_) {
    if (!audio_->track().covers(cut.pts, codec_->time_base)) return;
    writeAudioBefore(cut.pts);
  }
  writeMetadataBefore(cut.pts);
  cutAt(cut);
}

// Ends the running part at the cut (and the segment too, when it says so).
void RenditionEncoder::cutAt(SegmentCutter::Cut cut) {
  if (cutter_.parts() || cut.segmentEnds) emitPart(segmenter_->cut(cut.segmentEnds), cutter_.endPart(cut.pts));
  if (cut.segmentEnds) emitSegment(cutter_.endSegment(cut.pts));
}

// RFC 6381 CODECS of this rendition's output: the video's (from its SPS), then the AAC's.
std::string RenditionEncoder::codecsString() const {
  return audio_ ? codecs_ + "," + AacEncoder::kCodecString : codecs_;
}

// Without parts, the one "part" of a segment is its whole data and no event is sent.
void RenditionEncoder::emitPart(std::vector<uint8_t> data, const SegmentCutter::Span& span) {
  // The I-frames of these bytes (the segmenter's last cut), at their place in the segment.
  const size_t base = cutter_.parts() ? segmentData_.size() : 0;
  for (const KeyframeSpan& keyframe : segmenter_->keyframes()) {
    segmentIframes_.push_back(IframeRange{int64_t(base + keyframe.offset), int64_t(keyframe.length), keyframe.pts});
  }
  if (!cutter_.parts()) {
    segmentData_ = std::move(data);
    return;
  }
  if (segmentData_.empty()) segmentData_.reserve(expectedSegmentBytes_);
  segmentData_.insert(segmentData_.end(), data.begin(), data.end());
  PartOutput part;
  part.rendition = index_;
  part.segmentIndex = span.segmentIndex;
  part.index = span.partIndex;
  part.startFrame = span.startFrame;
  part.durationFrames = span.durationFrames;
  part.independent = span.partIndex == 0;
  part.codecs = codecsString();
  part.data = std::move(data);
  events_->onPart(std::move(part));
}

std::string RenditionEncoder::writeToOutputDir(const char* what, const std::string& fileName, const std::vector<uint8_t>& data) const {
  const std::string path = config_.outputDir + "/" + rendition_.name + "/" + fileName;
  FILE* file = std::fopen(path.c_str(), "wb");
  const bool written = file && std::fwrite(data.data(), 1, data.size(), file) == data.size();
  const int writeErrno = errno;
  if (file && std::fclose(file) != 0 && written) throw FFmpegError(std::string("Cannot write ") + what + " " + path + ": " + std::strerror(errno));
  if (!written) throw FFmpegError(std::string("Cannot write ") + what + " " + path + ": " + std::strerror(writeErrno));
  return path;
}

void RenditionEncoder::emitInit() {
  if (segmenter_->initSegment().empty()) return;
  InitOutput init;
  init.rendition = index_;
  init.codecs = codecsString();
  init.data = segmenter_->initSegment();
  if (!config_.outputDir.empty()) init.path = writeToOutputDir("init segment", "init.mp4", init.data);
  events_->onInit(std::move(init));
}

void RenditionEncoder::emitSegment(const SegmentCutter::Span& span) {
  SegmentOutput segment;
  segment.rendition = index_;
  segment.index = span.segmentIndex;
  segment.startFrame = span.startFrame;
  segment.durationFrames = span.durationFrames;
  segment.codecs = codecsString();
  segment.ptsOffset = segmenter_->ptsOffsetSeconds();
  segment.data = std::move(segmentData_);
  segmentData_.clear();
  segment.iframes = std::move(segmentIframes_);
  segmentIframes_.clear();
  if (!config_.outputDir.empty()) {
    char fileName[32];
    std::snprintf(fileName, sizeof fileName, "segment_%05d.%s", segment.index, segmenter_->segmentExtension());
    segment.path = writeToOutputDir("segment", fileName, segment.data);
  }
  totals_.segments += 1;
  totals_.bytes += int64_t(segment.data.size());
  events_->onSegment(std::move(segment));
}

}  // namespace abrcast
