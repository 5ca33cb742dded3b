package org.l2l.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.l2l.meta.EpochStats;

/** Progress lines of meta-training on standard output: epoch, speed, losses, ETA. */
final class Progress {

  private final int epochs;
  private final int every;
  private final long start;
  private final int firstEpoch;
  private EpochStats best;

  Progress(int epochs, int every, long startNanos, int firstEpoch) {
    this.epochs = epochs;
    this.every = every;
    this.start = startNanos;
    this.firstEpoch = firstEpoch;
  }

  void epoch(EpochStats s) {
    if (s.epoch() % every != 0 && s.epoch() != epochs && !(s.validationLoss() >= 0)) {
      return;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double rate = (s.epoch() - firstEpoch + 1) / Math.max(seconds, 1e-9);
    String validation = Double.isNaN(s.validationLoss()) ? ""
        : String.format(Locale.ROOT, "  validation %.4g%s", s.validationLoss(),
            best != null && best.epoch() == s.epoch() ? " (best)" : "");
    System.out.printf(Locale.ROOT, "epoch %d/%d  meta-loss %.4g  final %.4g%s  %.1f epochs/s"
            + "  ETA %s%n", s.epoch(), epochs, s.metaLoss(), s.finalLoss(), validation, rate,
        duration((epochs - s.epoch()) / rate));
  }

  void best(EpochStats s) {
    best = s;
  }

  void finish(Path dir, double bestLoss, int bestEpoch) {
    double seconds = (System.nanoTime() - start) / 1e9;
    if (bestEpoch == 0) { // no evaluation gave a finite loss: there is no best/
      System.out.printf(Locale.ROOT, "done in %s; no evaluation gave a finite validation loss, "
          + "so there is no best optimizer; the latest is in %s%n", duration(seconds),
          dir.resolve("latest"));
      return;
    }
    System.out.printf(Locale.ROOT, "done in %s; best validation loss %.4g at epoch %d; "
            + "optimizer in %s%n", duration(seconds), bestLoss, bestEpoch, dir.resolve("best"));
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
        : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }
}
