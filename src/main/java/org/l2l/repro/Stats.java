package org.l2l.repro;

import java.util.Arrays;
import org.apache.commons.math3.distribution.TDistribution;

/** Means, medians, quartiles and Student-t confidence intervals of per-instance losses. */
public final class Stats {

  /** The confidence level of every interval in the report. */
  public static final double LEVEL = 0.95;

  private Stats() {}

  /** A mean with its 95% t-interval (NaN bounds when n < 2 or a value is not finite). */
  public record Interval(double mean, double low, double high, int n) {
    /** Whether the interval lies wholly below zero. */
    public boolean below0() {
      return high < 0;
    }

    /** Whether the interval lies wholly above zero. */
    public boolean above0() {
      return low > 0;
    }
  }

  public static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return s / x.length;
  }

  /** The q-quantile (0..1) with linear interpolation between order statistics. */
  public static double quantile(double[] x, double q) {
    double[] v = x.clone();
    Arrays.sort(v);
    double pos = q * (v.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, v.length - 1);
    if (v[lo] == v[hi]) {
      return v[lo];
    }
    return v[lo] + (pos - lo) * (v[hi] - v[lo]);
  }

  public static double median(double[] x) {
    return quantile(x, 0.5);
  }

  /** The mean of {@code x} with its 95% Student-t confidence interval. */
  public static Interval tInterval(double[] x) {
    int n = x.length;
    double m = mean(x);
    boolean finite = Arrays.stream(x).allMatch(Double::isFinite);
    if (n < 2 || !finite) {
      return new Interval(m, Double.NaN, Double.NaN, n);
    }
    double ss = 0;
    for (double v : x) {
      ss += (v - m) * (v - m);
    }
    double se = Math.sqrt(ss / (n - 1) / n);
    double t = new TDistribution(n - 1).inverseCumulativeProbability(0.5 + LEVEL / 2);
    return new Interval(m, m - t * se, m + t * se, n);
  }

  /** The interval of the mean of a - b, paired element by element. */
  public static Interval pairedDifference(double[] a, double[] b) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i] - b[i];
    }
    return tInterval(d);
  }
}
