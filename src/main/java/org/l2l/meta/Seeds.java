package org.l2l.meta;

import java.util.SplittableRandom;

/**
 * Independent, reproducible random streams derived from one user seed, one per purpose, so that
 * for instance the evaluation instances of seed 7 are the same whatever else was run before.
 */
public final class Seeds {

  /** Purposes of random streams; the ordinal is part of the derived seed, so never reorder. */
  public enum Stream {
    /** Instances sampled for meta-training, one per epoch. */
    TRAIN,
    /** Held-out instances for evaluation during training (early stopping). */
    VALIDATION,
    /** Instances for the final evaluation. */
    TEST,
    /** Instances for tuning the baselines' learning rates. */
    TUNING,
    /** Initial values of the meta-parameters. */
    INIT,
    /** Training instances 1, 2, ... of an epoch with several per meta-step ({@link Parallel}). */
    TRAIN_MORE
  }

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private Seeds() {}

  /** The random stream for instance {@code index} of purpose {@code stream} under {@code seed}. */
  public static SplittableRandom random(long seed, Stream stream, long index) {
    long mixed = new SplittableRandom(seed * GOLDEN + stream.ordinal()).nextLong() + index * GOLDEN;
    return new SplittableRandom(new SplittableRandom(mixed).nextLong());
  }
}
