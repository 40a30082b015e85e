#include "thumbnail-encoder.h"

extern "C" {
#include <libswscale/swscale.h>
}

namespace abrcast {

namespace {

// JPEG quantiser scale (1 best .. 31 worst): 3 keeps a 320-pixel thumbnail sharp at a few kB.
constexpr int kJpegQuality = 3;

// A scaler with its matrix and range set before use: `from` is read as `fromMatrix`/`fromFull`,
// `to` is written as `toMatrix`/`toFull` (swscale converts between YUV matrices only through RGB).
SwsContextPtr makeScaler(int srcWidth, int srcHeight, AVPixelFormat from, int dstWidth, int dstHeight, AVPixelFormat to,
                         int fromMatrix, bool fromFull, int toMatrix, bool toFull) {
  SwsContextPtr scaler(sws_getContext(srcWidth, srcHeight, from, dstWidth, dstHeight, to, SWS_BICUBIC | SWS_ACCURATE_RND,
                                      nullptr, nullptr, nullptr));
  if (!scaler) {
    throw FFmpegError(std::string("Cannot scale ") + av_get_pix_fmt_name(from) + " " + std::to_string(srcWidth) + "x" +
                      std::to_string(srcHeight) + " to a thumbnail");
  }
  sws_setColorspaceDetails(scaler.get(), sws_getCoefficients(fromMatrix), fromFull ? 1 : 0, sws_getCoefficients(toMatrix),
                           toFull ? 1 : 0, 0, 1 << 16, 1 << 16);
  return scaler;
}

FramePtr bufferedFrame(AVPixelFormat format, int width, int height) {
  FramePtr frame = allocFrame();
  frame->format = format;
  frame->width = width;
  frame->height = height;
  check(av_frame_get_buffer(frame.get(), 0), "Cannot allocate a thumbnail picture");
  return frame;
}

}  // namespace

std::unique_ptr<ThumbnailEncoder> ThumbnailEncoder::open(int width, int height, AVRational timeBase, std::string& whyNot) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) {
    whyNot = "this FFmpeg was built without the mjpeg encoder (configure --enable-encoder=mjpeg)";
    return nullptr;
  }
  std::unique_ptr<ThumbnailEncoder> thumbnails(new ThumbnailEncoder(width, height));
  // yuv420p marked full range is plain JFIF; FFmpeg before 6.1 may want its yuvj420p spelling.
  for (AVPixelFormat format : {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P}) {
    CodecContextPtr context(avcodec_alloc_context3(codec));
    if (!context) throw std::bad_alloc();
    AVCodecContext* c = context.get();
    c->width = width;
    c->height = height;
    c->time_base = timeBase;
    c->pix_fmt = format;
    c->color_range = AVCOL_RANGE_JPEG;
    c->colorspace = AVCOL_SPC_BT470BG;
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * kJpegQuality;
    const int opened = avcodec_open2(c, codec, nullptr);
    if (opened < 0) {
      whyNot = "the mjpeg encoder refused " + std::to_string(width) + "x" + std::to_string(height) + " " +
               av_get_pix_fmt_name(format) + ": " + errorText(opened);
      continue;
    }
    thumbnails->codec_ = std::move(context);
    thumbnails->picture_ = bufferedFrame(format, width, height);
    thumbnails->rgb_ = bufferedFrame(AV_PIX_FMT_RGB24, width, height);
    thumbnails->toYuv_ = makeScaler(width, height, AV_PIX_FMT_RGB24, width, height, format, SWS_CS_ITU601, true, SWS_CS_ITU601, true);
    return thumbnails;
  }
  return nullptr;
}

void ThumbnailEncoder::scale(const AVFrame* frame) {
  const AVFrame* source = frame;
  if (frame->hw_frames_ctx) {
    av_frame_unref(downloaded_.get());
    check(av_hwframe_transfer_data(downloaded_.get(), frame, 0), "Cannot download a frame for its thumbnail");
    source = downloaded_.get();
  }
  if (!toRgb_ || source->width != scalerWidth_ || source->height != scalerHeight_ || source->format != scalerFormat_) {
    // The encoders' pictures are BT.709 limited range (rendition-encoder.cc).
    toRgb_ = makeScaler(source->width, source->height, AVPixelFormat(source->format), width_, height_, AV_PIX_FMT_RGB24,
                        SWS_CS_ITU709, false, SWS_CS_ITU709, true);
    scalerWidth_ = source->width;
    scalerHeight_ = source->height;
    scalerFormat_ = source->format;
  }
  check(av_frame_make_writable(rgb_.get()), "Cannot write a thumbnail picture");
  check(av_frame_make_writable(picture_.get()), "Cannot write a thumbnail picture");
  sws_scale(toRgb_.get(), source->data, source->linesize, 0, source->height, rgb_->data, rgb_->linesize);
  sws_scale(toYuv_.get(), rgb_->data, rgb_->linesize, 0, height_, picture_->data, picture_->linesize);
}

std::vector<uint8_t> ThumbnailEncoder::encode(const AVFrame* frame) {
  scale(frame);
  picture_->pts = frame->pts;
  check(avcodec_send_frame(codec_.get(), picture_.get()), "Cannot encode a thumbnail");
  // mjpeg is intra-only without delay: the packet is there at once.
  check(avcodec_receive_packet(codec_.get(), packet_.get()), "Cannot encode a thumbnail");
  std::vector<uint8_t> jpeg(packet_->data, packet_->data + packet_->size);
  av_packet_unref(packet_.get());
  return jpeg;
}

}  // namespace abrcast
