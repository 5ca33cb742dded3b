package org.l2l.problem;

import java.util.SplittableRandom;

/** Deterministic random draws on top of {@link SplittableRandom} (same values on every JVM). */
public final class Random {

  private Random() {}

  /** A standard normal draw by the Box-Muller transform (StrictMath, so bit-reproducible). */
  public static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble(); // in (0, 1], so log is finite
    double u2 = rng.nextDouble();
    return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
  }

  /** A truncated normal draw: resampled until within two standard deviations (as TensorFlow). */
  public static double truncatedGaussian(SplittableRandom rng) {
    while (true) {
      double g = gaussian(rng);
      if (Math.abs(g) <= 2.0) {
        return g;
      }
    }
  }
}
