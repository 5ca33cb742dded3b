package org.l2l.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.HistogramProto;

class HistogramsTest {

  @Test
  void defaultLimitsAreTensorFlows() {
    double[] limits = Histograms.defaultBucketLimits();
    // 1e-12 * 1.1^k < 1e20 for k = 0..773 (774 edges), plus DBL_MAX; mirrored; plus 0.
    assertEquals(2 * 775 + 1, limits.length);
    assertEquals(0.0, limits[775]);
    assertEquals(1e-12, limits[776]);
    assertEquals(1e-12 * 1.1, limits[777], 1e-27);
    assertEquals(Double.MAX_VALUE, limits[limits.length - 1]);
    assertEquals(-Double.MAX_VALUE, limits[0]);
    assertTrue(limits[limits.length - 2] < 1e20 && limits[limits.length - 2] * 1.1 >= 1e20);
    for (int i = 0; i < limits.length; i++) {
      assertEquals(-limits[i], limits[limits.length - 1 - i], 0.0); // delta 0: -0.0 == 0.0
      if (i > 0) {
        assertTrue(limits[i - 1] < limits[i]);
      }
    }
  }

  @Test
  void statisticsAndBuckets() {
    HistogramProto h =
        Histograms.of(new float[] {-1f, 0f, 0.5f, 0.5f, 2f, Float.NaN, Float.POSITIVE_INFINITY});
    assertEquals(-1.0, h.getMin());
    assertEquals(2.0, h.getMax());
    assertEquals(5.0, h.getNum()); // NaN and infinity left out
    assertEquals(2.0, h.getSum());
    assertEquals(1 + 0 + 0.25 + 0.25 + 4, h.getSumSquares());
    // Non-empty buckets: [-1, -1/1.1...), [0, 1e-12), the one holding 0.5, the one holding 2.
    List<Double> counts = h.getBucketList();
    List<Double> edges = h.getBucketLimitList();
    assertEquals(5.0, counts.stream().mapToDouble(Double::doubleValue).sum());
    assertEquals(edges.size(), counts.size());
    assertEquals(Double.MAX_VALUE, edges.get(edges.size() - 1));
    int nonEmpty = 0;
    for (int i = 0; i < counts.size(); i++) {
      if (counts.get(i) > 0) {
        nonEmpty++;
        double lower = edges.get(i - 1); // never the first: the first run is empty
        double upper = edges.get(i);
        double expected = 0;
        for (double v : new double[] {-1, 0, 0.5, 0.5, 2}) {
          expected += lower <= v && v < upper ? 1 : 0;
        }
        assertEquals(expected, counts.get(i), "bucket [" + lower + ", " + upper + ")");
      } else if (i > 0) {
        assertTrue(counts.get(i - 1) > 0, "empty runs are merged into one bucket");
      }
    }
    assertEquals(4, nonEmpty);
    assertEquals(1e-12, edges.get(edges.indexOf(0.0) + 1)); // 0 falls in [0, 1e-12)
  }

  @Test
  void emptyHistogramMatchesTensorFlow() {
    HistogramProto h = Histograms.of(new float[0]);
    assertEquals(0.0, h.getNum());
    assertEquals(Double.MAX_VALUE, h.getMin());
    assertEquals(-Double.MAX_VALUE, h.getMax());
    assertEquals(List.of(Double.MAX_VALUE), h.getBucketLimitList());
    assertEquals(List.of(0.0), h.getBucketList());
  }
}
