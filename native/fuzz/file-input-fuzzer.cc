// libFuzzer harness for the file-input path, as OSS-Fuzz fuzzes FFmpeg: the
// input bytes become a file that the native core probes, demuxes, decodes,
// converts to a constant frame rate, scales, encodes (x264) and segments
// (MPEG-TS), with its audio (AAC) when it has some. Errors are fine (they are
// reported as events); crashes, sanitizer reports, leaks of threads and hangs
// are not. Built by scripts/build-fuzzer.sh; see scripts/fuzz.sh.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "media-input.h"
#include "pipeline-registry.h"

namespace {

using namespace abrcast;

// Collects what a pipeline reports; the harness waits for onFinished.
class Events : public PipelineEvents {
 public:
  void onWarning(std::string) override {}
  void onSegment(SegmentOutput&& segment) override { bytes_ += segment.data.size(); }
  void onDrain(size_t) override {}
  void onAudioDrain(size_t) override {}
  void onError(std::string) override {}
  void onFinished(PipelineSummary, bool) override {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    changed_.notify_all();
  }
  // False when the pipeline did not finish in time (the caller then aborts it).
  bool waitFinished(std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, limit, [this] { return finished_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool finished_ = false;
  size_t bytes_ = 0;
};

std::string inputPath() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/abrcast-fuzz-" + std::to_string(getpid()) + ".bin";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(AV_LOG_QUIET);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = inputPath();
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return 0;
  const bool written = std::fwrite(data, 1, size, file) == size;
  std::fclose(file);
  if (!written) return 0;

  // What the TS layer does first (probeMediaFile, fileEncoderOptions): size and rate from the file.
  MediaInfo info;
  try {
    info = probeMedia(path, 5);
  } catch (const std::exception&) {
    return 0;  // not a video the core takes: the error names it, nothing else to run
  }
  EncoderConfig config;
  config.width = info.width - info.width % 2;
  config.height = info.height - info.height % 2;
  // The TS layer refuses sizes outside 2..8192 (options.ts); so does this.
  if (config.width < 2 || config.height < 2 || config.width > 8192 || config.height > 8192) return 0;
  if (info.frameRate.num > 0 && av_q2d(info.frameRate) <= 240) config.frameRate = info.frameRate;
  config.framesPerSegment = 15;
  config.x264Preset = "ultrafast";
  config.maxFramesInFlight = 2;
  config.ioTimeoutSeconds = 5;
  config.input.source = path;
  const int width = std::max(2, std::min(config.width, 64) & ~1);
  const int height = std::max(2, std::min(config.height, 36) & ~1);
  config.renditions.push_back(RenditionConfig{"fuzz", width, height, 100});
  if (!info.audioCodec.empty()) {
    config.audio.kind = AudioSourceKind::File;
    config.audio.source = path;
  }

  Events events;
  try {
    // As the binding does: the registry plans, builds and starts the pipeline; the handle closes it.
    PipelineHandle pipeline = PipelineRegistry::instance().open(config, &events);
    pipeline->startInput();
    if (!events.waitFinished(std::chrono::seconds(20))) {
      pipeline->abort();  // a hang is a finding too: libFuzzer's -timeout reports it, this only bounds it
      events.waitFinished(std::chrono::seconds(20));
    }
  } catch (const std::exception&) {
  }
  return 0;
}
