#include "thread-budget.h"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace abrcast {

namespace {

std::atomic<int> budgetSetting{0};

// x264's default is 1.5 frame threads per core in every encoder: a 3-rung ladder on 2 cores ran 9,
// each a frame of delay and of memory. Measured there (bench, 1080p ladder, veryfast): one thread
// per rendition spends the same CPU with ~120 MiB less peak RSS. So each rendition gets a part of
// the encoder's share by its pixels, at least one thread (x264 then sizes its lookahead threads
// from it), rounded up: one thread of a rendition with more than a CPU's worth (1080p of
// 1080/720/360 on 2 CPUs: 1.3) paces the whole ladder while the other CPU runs dry; at veryfast the
// 1080p thread alone was half of the ladder's CPU.
int x264Threads(const EncoderConfig& config, const RenditionConfig& rendition, int share) {
  double ladderPixels = 0;
  for (const RenditionConfig& r : config.renditions) ladderPixels += double(r.width) * r.height;
  const double part = double(rendition.width) * rendition.height / ladderPixels;
  return std::clamp(int(std::ceil(share * part - 1e-9)), 1, 16);
}

}  // namespace

void setThreadBudget(int threads) { budgetSetting = std::max(0, threads); }

ThreadBudget currentThreadBudget() {
  ThreadBudget budget;
  budget.cpus = countUsableCpus();
  const int setting = budgetSetting.load();
  budget.set = setting > 0;
  budget.threads = budget.set ? setting : budget.cpus.count;
  return budget;
}

ThreadPlan planThreads(const EncoderConfig& config, int share) {
  ThreadPlan plan;
  plan.share = std::max(1, share);
  if (config.encoder == EncoderKind::X264) {
    for (const RenditionConfig& rendition : config.renditions) plan.x264Threads.push_back(x264Threads(config, rendition, plan.share));
  }
  // The scaler (write()'s RGB frames): RGB -> YUV in row bands, at most 4, each 16 rows or more;
  // then the renditions' scales in parallel. Its helpers plus the graph thread cover the wider of
  // the two, within the share.
  plan.conversionBands = std::max(1, std::min({plan.share, 4, config.height / 16}));
  const int widest = std::max(plan.conversionBands, int(config.renditions.size()));
  plan.scalerThreads = std::min(plan.share, widest) - 1;
  plan.decoderThreads = config.fromFile() ? std::min(plan.share, 16) : 1;
  return plan;
}

ThreadPlan planEncoderThreads(const EncoderConfig& config, int liveEncoders) {
  const ThreadBudget budget = currentThreadBudget();
  const int encoders = std::max(1, liveEncoders);
  const bool shareSet = config.threadShare > 0;
  ThreadPlan plan = planThreads(config, shareSet ? config.threadShare : budget.threads / encoders);
  plan.usableCpus = budget.cpus.count;
  plan.cpuSource = budget.cpus.source;
  plan.budget = budget.threads;
  plan.budgetSet = budget.set;
  plan.encoders = encoders;
  plan.shareSet = shareSet;
  return plan;
}

}  // namespace abrcast
