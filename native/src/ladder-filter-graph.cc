#include "ladder-filter-graph.h"

#include <cstring>
#include <sstream>

namespace abrcast {

namespace {

// To YUV once, at source size. BT.709 limited range is what HLS players
// assume for HD; the encoders are tagged to match. The input's matrix and
// range come from each frame (RGB, or a decoder's BT.601/709, full or limited).
// `area` makes each 4:2:0 chroma sample the mean of its 2x2 block, whatever the
// per-rendition scaler: no ringing at colour edges, and the same picture as the
// GPU path's kernel for device frames (native/cuda/rgb-to-yuv420.h).
constexpr const char* kToYuv = "scale=out_color_matrix=bt709:out_range=tv:flags=area,format=yuv420p";

std::string describeGraph(const EncoderConfig& config, const VideoFrameFormat& source, bool cuda) {
  const size_t count = config.renditions.size();
  std::ostringstream spec;
  spec << "[in]";
  if (source.pixelFormat == AV_PIX_FMT_CUDA) {
    // Device-frame input arrives on the GPU, converted at the ladder's size (cuda-frame-import.h).
    spec << "split=" << count;
  } else {
    const int extraWidth = source.width - config.width;
    const int extraHeight = source.height - config.height;
    if (extraWidth != 0 || extraHeight != 0) {
      // An odd-sized source loses its last column/row; anything else is scaled to the ladder's size.
      if (extraWidth >= 0 && extraWidth <= 1 && extraHeight >= 0 && extraHeight <= 1) {
        spec << "crop=w=" << config.width << ":h=" << config.height << ":x=0:y=0,";
      } else {
        spec << "scale=w=" << config.width << ":h=" << config.height << ",";
      }
    }
    spec << kToYuv;
    if (cuda) spec << ",hwupload_cuda";
    spec << ",split=" << count;
  }
  for (size_t i = 0; i < count; ++i) spec << "[s" << i << "]";
  for (size_t i = 0; i < count; ++i) {
    const RenditionConfig& r = config.renditions[i];
    spec << ";[s" << i << "]";
    if (cuda) {
      spec << "scale_cuda=w=" << r.width << ":h=" << r.height;
    } else {
      spec << "scale=w=" << r.width << ":h=" << r.height << ":flags=" << config.scaleFlags;
    }
    spec << "[out" << i << "]";
  }
  return spec.str();
}

// Whether this libavfilter's `filter` has the option (found at run time, not by version number).
bool hasOption(const AVFilter* filter, const char* name) {
  const AVClass* filterClass = filter->priv_class;
  return filterClass && av_opt_find(&filterClass, name, nullptr, 0, AV_OPT_SEARCH_FAKE_OBJ) != nullptr;
}

}  // namespace

LadderFilterGraph::LadderFilterGraph(const EncoderConfig& config, const VideoFrameFormat& source, AVBufferRef* cudaDevice)
    : graph_(avfilter_graph_alloc()) {
  if (!graph_) throw std::bad_alloc();
  // No filter here works in slices, so no pool: by default every graph starts one thread per CPU
  // (less one) on its first filter, which then wait for nothing.
  graph_->nb_threads = 1;
  const bool cuda = cudaDevice != nullptr;
  // The RGB->YUV scaler uses these flags too; per-rendition scalers name theirs.
  const std::string swsFlags = "flags=" + config.scaleFlags;
  av_opt_set(graph_.get(), "scale_sws_opts", swsFlags.c_str(), 0);

  const size_t count = config.renditions.size();
  sinks_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const std::string name = "out_" + config.renditions[i].name;
    check(avfilter_graph_create_filter(&sinks_[i], avfilter_get_by_name("buffersink"), name.c_str(), nullptr, nullptr,
                                       graph_.get()),
          "Cannot create the filter graph's sink for rendition " + config.renditions[i].name);
  }
  if (!cuda && RenditionScaler::accepts(config, source.pixelFormat, source.width, source.height)) {
    scaler_ = std::make_unique<RenditionScaler>(config);
    connectScaledSources(config);
    return;
  }

  // Time base: one tick per frame, as the graph thread numbers the frames.
  const AVFilter* buffer = avfilter_get_by_name("buffer");
  std::ostringstream sourceArgs;
  sourceArgs << "video_size=" << source.width << "x" << source.height << ":pix_fmt=" << int(source.pixelFormat)
             << ":time_base=" << config.timeBase().num << "/" << config.timeBase().den
             << ":frame_rate=" << config.frameRate.num << "/" << config.frameRate.den << ":pixel_aspect=1/1";
  // FFmpeg 7.1+ compares each frame's colour properties with the source's, so declare them where it can.
  if (hasOption(buffer, "colorspace")) sourceArgs << ":colorspace=" << int(source.colorspace);
  if (hasOption(buffer, "range")) sourceArgs << ":range=" << int(source.colorRange);
  check(avfilter_graph_create_filter(&source_, buffer, "in", sourceArgs.str().c_str(), nullptr, graph_.get()),
        "Cannot create the filter graph's frame source");
  if (source.hwFrames) {
    // GPU frames in: the source must know their pool, as scale_cuda takes its device from it.
    std::unique_ptr<AVBufferSrcParameters, decltype(&av_free)> parameters(av_buffersrc_parameters_alloc(), &av_free);
    if (!parameters) throw std::bad_alloc();
    parameters->hw_frames_ctx = source.hwFrames;  // av_buffersrc_parameters_set takes its own reference
    check(av_buffersrc_parameters_set(source_, parameters.get()), "Cannot give the filter graph's source its CUDA frames");
  }

  // Link our source and sinks to the labels of the textual graph. Owned until the parser takes
  // them, and what it leaves after; every allocation checked.
  const auto inOut = [](const std::string& name, AVFilterContext* filter, AVFilterInOut* next) {
    FilterInOutPtr item(avfilter_inout_alloc());
    if (!item) throw std::bad_alloc();
    item->name = av_strdup(name.c_str());
    if (!item->name) throw std::bad_alloc();
    item->filter_ctx = filter;
    item->pad_idx = 0;
    item->next = next;
    return item;
  };
  FilterInOutPtr outputs = inOut("in", source_, nullptr);
  FilterInOutPtr inputs;
  for (size_t i = count; i-- > 0;) {
    FilterInOutPtr input = inOut("out" + std::to_string(i), sinks_[i], inputs.get());
    inputs.release();  // now input's next
    inputs = std::move(input);
  }
  const std::string spec = describeGraph(config, source, cuda);
  AVFilterInOut* parsedInputs = inputs.release();
  AVFilterInOut* parsedOutputs = outputs.release();
  const int parsed = avfilter_graph_parse_ptr(graph_.get(), spec.c_str(), &parsedInputs, &parsedOutputs, nullptr);
  FilterInOutPtr leftoverInputs(parsedInputs);
  FilterInOutPtr leftoverOutputs(parsedOutputs);
  check(parsed, "Cannot build the filter graph \"" + spec + "\"");

  if (cuda) {
    // hwupload_cuda uploads into frames of the one shared CUDA device.
    for (unsigned i = 0; i < graph_->nb_filters; ++i) {
      AVFilterContext* filter = graph_->filters[i];
      if (std::strcmp(filter->filter->name, "hwupload_cuda") == 0) {
        filter->hw_device_ctx = av_buffer_ref(cudaDevice);
        if (!filter->hw_device_ctx) throw std::bad_alloc();
      }
    }
  }
  check(avfilter_graph_config(graph_.get(), nullptr), "Cannot configure the filter graph \"" + spec + "\"");
}

// Each rendition's source takes its frames already scaled; the graph only hands them to the sinks.
void LadderFilterGraph::connectScaledSources(const EncoderConfig& config) {
  const AVFilter* buffer = avfilter_get_by_name("buffer");
  for (size_t i = 0; i < config.renditions.size(); ++i) {
    const RenditionConfig& r = config.renditions[i];
    std::ostringstream args;
    args << "video_size=" << r.width << "x" << r.height << ":pix_fmt=" << int(AV_PIX_FMT_YUV420P)
         << ":time_base=" << config.timeBase().num << "/" << config.timeBase().den << ":frame_rate=" << config.frameRate.num
         << "/" << config.frameRate.den << ":pixel_aspect=1/1";
    if (hasOption(buffer, "colorspace")) args << ":colorspace=" << int(AVCOL_SPC_BT709);
    if (hasOption(buffer, "range")) args << ":range=" << int(AVCOL_RANGE_MPEG);
    AVFilterContext* source = nullptr;
    const std::string name = "in_" + r.name;
    check(avfilter_graph_create_filter(&source, buffer, name.c_str(), args.str().c_str(), nullptr, graph_.get()),
          "Cannot create the filter graph's source for rendition " + r.name);
    check(avfilter_link(source, 0, sinks_[i], 0), "Cannot link the filter graph for rendition " + r.name);
    scaledSources_.push_back(source);
    scaledNames_.push_back(r.name);
  }
  check(avfilter_graph_config(graph_.get(), nullptr), "Cannot configure the filter graph of scaled renditions");
}

void LadderFilterGraph::push(AVFrame* frame) {
  if (scaler_) {
    scaler_->process(frame, scaled_);
    for (size_t i = 0; i < scaledSources_.size(); ++i) {
      check(av_buffersrc_add_frame_flags(scaledSources_[i], scaled_[i].get(), 0),
            "Cannot feed a frame to the filter graph of rendition " + scaledNames_[i]);
      scaled_[i].reset();
    }
    av_frame_unref(frame);  // as av_buffersrc_add_frame does: the frame's reference is taken
    return;
  }
  check(av_buffersrc_add_frame_flags(source_, frame, 0), "Cannot feed a frame to the filter graph");
}

void LadderFilterGraph::pushEnd() {
  for (AVFilterContext* source : scaledSources_) {
    check(av_buffersrc_add_frame_flags(source, nullptr, 0), "Cannot flush the filter graph");
  }
  if (!scaler_) check(av_buffersrc_add_frame_flags(source_, nullptr, 0), "Cannot flush the filter graph");
}

int LadderFilterGraph::pull(size_t index, AVFrame* frame) {
  const int result = av_buffersink_get_frame(sinks_[index], frame);
  if (result == AVERROR(EAGAIN)) return 0;
  if (result == AVERROR_EOF) return -1;
  check(result, "Cannot take a scaled frame from the filter graph");
  return 1;
}

}  // namespace abrcast
