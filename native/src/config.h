// Plain configuration copied out of JS values on the JS thread. Nothing here
// touches Napi, so the worker threads can read it freely.
#pragma once

extern "C" {
#include <libavutil/pixfmt.h>
#include <libavutil/rational.h>
}

#include <string>
#include <utility>
#include <vector>

namespace abrcast {

enum class EncoderKind { X264, Nvenc };

// MPEG-TS segments, or fMP4/CMAF (an init segment per rendition, then moof/mdat fragments).
enum class Container { Ts, Fmp4 };

struct RenditionConfig {
  std::string name;
  int width = 0;
  int height = 0;
  int bitrateKbps = 0;
};

enum class AudioSourceKind { None, File, Pcm };

// Audio is encoded once (AAC-LC, 48 kHz stereo) and muxed into every rendition.
struct AudioConfig {
  AudioSourceKind kind = AudioSourceKind::None;
  std::string source;        // File: a path or URL libavformat opens
  int pcmSampleRate = 0;     // Pcm: interleaved float32 written from JS
  int pcmChannels = 0;
  int maxQueuedSamples = 0;  // Pcm: sample frames that may wait before writeAudio() is held back
  int bitrateKbps = 128;
  // End with the shorter of audio and video; otherwise pad or cut audio to the video's length.
  bool shortest = true;

  bool enabled() const { return kind != AudioSourceKind::None; }
};

// Frames decoded from a file or URL inside the addon instead of written from JS.
struct FileInputConfig {
  std::string source;  // empty: frames come from write()
  bool live = false;   // pace at the frame rate (wall clock) instead of as fast as possible
};

// How many threads one encoder runs, decided once when it is created (thread-budget.h): its share of
// the process's thread budget, spent on x264's frame threads and the CPU scaler's helper threads.
struct ThreadPlan {
  int usableCpus = 1;        // the CPUs this process may use (usable-cpus.h)
  std::string cpuSource;     // how they were counted, e.g. "affinity 2 CPUs, cgroup v2 cpu.max 150000 100000"
  int budget = 1;            // the process's budget: setThreadBudget(), else usableCpus
  bool budgetSet = false;    // whether setThreadBudget() chose it
  int encoders = 1;          // live encoders the budget was split among, this one included
  int share = 1;             // this encoder's threads: budget / encoders, or its own `threads` option
  bool shareSet = false;     // whether the `threads` option chose it
  std::vector<int> x264Threads;  // per rendition (x264's `threads`); empty for NVENC
  int scalerThreads = 0;     // helper threads of write()'s CPU scaler (rendition-scaler.h), besides the graph thread
  int conversionBands = 1;   // row bands the scaler converts RGB to YUV in, in parallel
  int decoderThreads = 1;    // file input: the video decoder's thread_count
};

struct EncoderConfig {
  int width = 0;
  int height = 0;
  AVRational frameRate{30, 1};
  AVPixelFormat inputFormat = AV_PIX_FMT_RGB24;  // of write(); a file's frames keep their own
  int framesPerSegment = 60;
  // Parts (LL-HLS partial segments) are cut every this many frames within a segment; 0: none.
  int framesPerPart = 0;
  Container container = Container::Ts;
  EncoderKind encoder = EncoderKind::X264;
  std::string x264Preset = "veryfast";
  std::string nvencPreset = "p4";
  std::string nvencTune = "hq";
  std::string scaleFlags = "lanczos";
  // latency: 'low': no lookahead, B-frames or frame-thread delay in the encoders.
  bool lowLatency = false;
  int maxFramesInFlight = 4;
  double ioTimeoutSeconds = 30;  // opening a file or URL, and each network read after it
  std::string outputDir;  // empty: segments stay in memory only
  std::vector<RenditionConfig> renditions;
  AudioConfig audio;
  FileInputConfig input;
  // write() takes CUDA device pointers instead of host memory (see cuda-frame-import.h).
  bool cudaFrames = false;
  // A JPEG thumbnail of each segment's first frame, from the smallest rendition's picture, this wide
  // (0: none). Off with a warning when FFmpeg has no mjpeg encoder.
  int thumbnailWidth = 0;
  // MPEG-TS declares a timed ID3 stream (stream type 0x15) for writeMetadata(); fMP4 needs nothing
  // declared (its events are emsg boxes).
  bool timedMetadata = false;
  // Extra AVOptions for every video encoder, after ours (so they win); one it does not take is an error.
  std::vector<std::pair<std::string, std::string>> encoderOptions;
  // `threads` option: this encoder's share of the thread budget; 0: budget / live encoders.
  int threadShare = 0;
  // Filled in when the encoder is created (PipelineRegistry::open), read by the parts that start threads.
  ThreadPlan threads;

  bool fromFile() const { return !input.source.empty(); }

  // Encoder time base: one tick per frame.
  AVRational timeBase() const { return av_inv_q(frameRate); }
};

}  // namespace abrcast
