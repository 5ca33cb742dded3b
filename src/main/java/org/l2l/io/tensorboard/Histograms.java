package org.l2l.io.tensorboard;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.HistogramProto;

/**
 * Builds {@link HistogramProto}s exactly as TensorFlow's {@code HistogramSummary} op does, so that
 * TensorBoard draws our histograms like those written by TensorFlow itself.
 */
public final class Histograms {

  /**
   * TensorFlow's default bucket edges (tensorflow/core/lib/histogram/histogram.cc): positive edges
   * 1e-12 growing by 10% up to 1e20, then DBL_MAX; the same negated and mirrored; and 0 in the
   * middle. Bucket {@code i} holds values in {@code [limit[i-1], limit[i])}.
   */
  private static final double[] LIMITS = defaultLimits();

  private Histograms() {}

  /** A copy of TensorFlow's default bucket right edges, ascending. */
  public static double[] defaultBucketLimits() {
    return LIMITS.clone();
  }

  /**
   * The histogram of {@code values}. Runs of empty buckets are merged into one entry carrying the
   * last edge of the run, as TensorFlow does to keep event files small.
   *
   * <p>NaN and infinite values are left out (TensorFlow would fail the whole step on them); so
   * {@code num} counts the finite values only. With no finite values the result matches
   * TensorFlow's empty histogram: min = DBL_MAX, max = -DBL_MAX and a single empty bucket.
   */
  public static HistogramProto of(float[] values) {
    double[] counts = new double[LIMITS.length];
    double min = Double.MAX_VALUE;
    double max = -Double.MAX_VALUE;
    double num = 0;
    double sum = 0;
    double sumSquares = 0;
    for (float f : values) {
      double v = f;
      if (!Double.isFinite(v)) {
        continue;
      }
      counts[upperBound(v)]++;
      min = Math.min(min, v);
      max = Math.max(max, v);
      num++;
      sum += v;
      sumSquares += v * v;
    }
    HistogramProto.Builder proto =
        HistogramProto.newBuilder()
            .setMin(min)
            .setMax(max)
            .setNum(num)
            .setSum(sum)
            .setSumSquares(sumSquares);
    List<Double> edges = new ArrayList<>();
    List<Double> buckets = new ArrayList<>();
    for (int i = 0; i < counts.length; ) {
      double end = LIMITS[i];
      double count = counts[i];
      i++;
      if (count <= 0) {
        while (i < counts.length && counts[i] <= 0) {
          end = LIMITS[i];
          i++;
        }
      }
      edges.add(end);
      buckets.add(count);
    }
    return proto.addAllBucketLimit(edges).addAllBucket(buckets).build();
  }

  /** Index of the first edge strictly greater than {@code v}, i.e. C++ {@code upper_bound}. */
  private static int upperBound(double v) {
    int lo = 0;
    int hi = LIMITS.length - 1; // v is finite, so v < DBL_MAX-or-equal; clamp to the last bucket
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (LIMITS[mid] > v) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  private static double[] defaultLimits() {
    List<Double> positive = new ArrayList<>();
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1) {
      positive.add(v);
    }
    positive.add(Double.MAX_VALUE);
    int n = positive.size();
    double[] limits = new double[2 * n + 1];
    for (int i = 0; i < n; i++) {
      limits[n - 1 - i] = -positive.get(i);
      limits[n + 1 + i] = positive.get(i);
    }
    limits[n] = 0.0;
    return limits;
  }
}
