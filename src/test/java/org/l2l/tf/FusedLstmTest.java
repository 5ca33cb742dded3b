package org.l2l.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.l2l.meta.Unroll;
import org.l2l.problem.Instance;
import org.l2l.problem.MnistProblem;
import org.l2l.problem.Problem;
import org.l2l.problem.QuadraticProblem;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The fused LSTM cell kernels against a plain-Java (double) computation of the same cell, and
 * the unroll built on them against the unroll built on stock ops.
 */
class FusedLstmTest {

  private static final int H = 3;
  /** Columns: an odd count, so that vector loops have a remainder (and above the split size). */
  private static final int N = 11_003;

  @BeforeAll
  static void load() {
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch");
    if (os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
      // Maven builds the library on Linux x86-64 (gcc is part of the build's requirements).
      assertTrue(FusedLstm.available(), String.valueOf(FusedLstm.unavailableReason()));
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(FusedLstm.available(),
        "fused kernels are built for Linux x86-64 only");
  }

  private static float[] random(SplittableRandom rng, int size, double scale) {
    float[] v = new float[size];
    for (int i = 0; i < size; i++) {
      v[i] = (float) (scale * (2 * rng.nextDouble() - 1));
    }
    return v;
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** z with gate pre-activations over a wide range, including saturated ones. */
  private static float[] gates(SplittableRandom rng) {
    float[] z = random(rng, 4 * H * N, 6);
    z[0] = 40f;
    z[1] = -40f;
    z[3 * H * N] = 12f;
    z[3 * H * N + 1] = -12f;
    z[3 * H * N + 2] = 1e-5f;
    return z;
  }

  @Test
  void forwardAndGradientMatchPlainJava() {
    SplittableRandom rng = new SplittableRandom(3);
    float[] z = gates(rng);
    float[] c = random(rng, H * N, 2);
    float[] dcNext = random(rng, H * N, 1);
    float[] dh = random(rng, H * N, 1);
    float[] cNext;
    float[] h;
    float[] act;
    float[] dz;
    float[] dc;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> zc = tf.constant(org.tensorflow.ndarray.Shape.of(4 * H, N),
          org.tensorflow.ndarray.buffer.DataBuffers.of(z, true, false));
      Operand<TFloat32> cc = tf.constant(org.tensorflow.ndarray.Shape.of(H, N),
          org.tensorflow.ndarray.buffer.DataBuffers.of(c, true, false));
      List<Operand<TFloat32>> cell = FusedLstm.cell(tf, zc, cc);
      List<Operand<TFloat32>> grad = FusedLstm.cellGrad(tf, cell.get(2), cc,
          tf.constant(org.tensorflow.ndarray.Shape.of(H, N),
              org.tensorflow.ndarray.buffer.DataBuffers.of(dcNext, true, false)),
          tf.constant(org.tensorflow.ndarray.Shape.of(H, N),
              org.tensorflow.ndarray.buffer.DataBuffers.of(dh, true, false)));
      try (var out = s.runner().fetch(cell.get(0)).fetch(cell.get(1)).fetch(cell.get(2))
          .fetch(grad.get(0)).fetch(grad.get(1)).run()) {
        cNext = Tensors.toArray(out.get(0));
        h = Tensors.toArray(out.get(1));
        act = Tensors.toArray(out.get(2));
        dz = Tensors.toArray(out.get(3));
        dc = Tensors.toArray(out.get(4));
        assertArrayEquals(new long[] {4 * H, N}, out.get(3).shape().asArray());
        assertArrayEquals(new long[] {5 * H, N}, out.get(2).shape().asArray());
      }
    }
    int m = H * N;
    double worst = 0;
    for (int e = 0; e < m; e++) {
      double i = sigmoid(z[e]);
      double f = sigmoid(z[m + e]);
      double o = sigmoid(z[2 * m + e]);
      double gg = Math.tanh(z[3 * m + e]);
      double cn = f * c[e] + i * gg;
      double t = Math.tanh(cn);
      double[] expected = {cn, o * t, i, f, o, gg, t};
      float[] got = {cNext[e], h[e], act[e], act[m + e], act[2 * m + e], act[3 * m + e],
          act[4 * m + e]};
      for (int k = 0; k < expected.length; k++) {
        assertEquals(expected[k], got[k], 1e-6 * (1 + Math.abs(expected[k])),
            "forward value " + k + " at " + e);
        worst = Math.max(worst, Math.abs(expected[k] - got[k]));
      }
      double dct = dcNext[e] + dh[e] * o * (1 - t * t);
      double[] grads = {dct * gg * i * (1 - i), dct * c[e] * f * (1 - f),
          dh[e] * t * o * (1 - o), dct * i * (1 - gg * gg), dct * f};
      float[] gotGrads = {dz[e], dz[m + e], dz[2 * m + e], dz[3 * m + e], dc[e]};
      for (int k = 0; k < grads.length; k++) {
        assertEquals(grads[k], gotGrads[k], 2e-6 * (1 + Math.abs(grads[k])),
            "gradient " + k + " at " + e);
      }
    }
    assertEquals(1.0, act[0], 1e-7, "sigmoid(40) saturates at 1");
    assertEquals(0.0, act[1], 1e-7, "sigmoid(-40) at 0");
    assertEquals(1e-5, act[3 * m + 2], 1e-12, "tanh is exact near 0");
    assertTrue(worst < 1e-6, "worst forward error " + worst);
  }

  @Test
  void nanPropagates() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      float[] z = new float[4 * 2];
      z[0] = Float.NaN; // input gate of column 0
      List<Operand<TFloat32>> cell = FusedLstm.cell(tf,
          tf.constant(new float[][] {{z[0], 0}, {0, 0}, {0, 0}, {0, 0}}),
          tf.constant(new float[][] {{1, 1}}));
      try (var out = s.runner().fetch(cell.get(0)).run()) {
        float[] cNext = Tensors.toArray(out.get(0));
        assertTrue(Float.isNaN(cNext[0]), "NaN in, NaN out");
        assertEquals(0.5f * 1 + 0.5f * 0, cNext[1], 1e-7f);
      }
    }
  }

  @Test
  void badShapesAreErrors() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<TFloat32>> cell = FusedLstm.cell(tf, tf.constant(new float[3][5]),
          tf.constant(new float[1][5]));
      TFInvalidArgumentException e = assertThrows(TFInvalidArgumentException.class,
          () -> s.runner().fetch(cell.get(0)).run().close());
      assertTrue(e.getMessage().contains("z must be [4H, N]"), e.getMessage());
    }
  }

  private static final CoordinatewiseLstm.Config CONFIG =
      new CoordinatewiseLstm.Config(2, 6, 1.0, 0.1, Preprocessing.LOG_AND_SIGN_PAPER, 10);

  private record Run(float[] losses, float metaLoss, List<float[]> metaGradient) {}

  private static Run run(Problem p, CoordinatewiseLstm.Kernel kernel, Instance inst) {
    try (Unroll u = new Unroll(p, new CoordinatewiseLstm(CONFIG, kernel),
        new Unroll.Options(5, false, false, 0.001, 0, 11, 2))) {
      u.reset(inst);
      List<float[]> metaGradient = u.metaGradient(inst, 0);
      u.reset(inst);
      Unroll.Result r = u.train(inst, 0);
      return new Run(r.losses(), r.metaLoss(), metaGradient);
    }
  }

  @Test
  void unrollOnFusedKernelsMatchesStockAndRepeatsBitForBit() {
    var data = org.l2l.problem.MnistProblemTest.tinyData(200, 64, 5);
    Problem p = new MnistProblem(16, 1, MnistProblem.Activation.SIGMOID, 8, 64, () -> data);
    Instance inst = p.sample(new SplittableRandom(4));
    Run stock = run(p, CoordinatewiseLstm.Kernel.STOCK, inst);
    Run fused = run(p, CoordinatewiseLstm.Kernel.FUSED, inst);
    Run again = run(p, CoordinatewiseLstm.Kernel.FUSED, inst);
    assertArrayEquals(fused.losses(), again.losses(), "the same run twice: the same bits");
    assertEquals(fused.metaLoss(), again.metaLoss());
    for (int k = 0; k < fused.metaGradient().size(); k++) {
      assertArrayEquals(fused.metaGradient().get(k), again.metaGradient().get(k));
    }
    for (int t = 0; t < stock.losses().length; t++) {
      assertEquals(stock.losses()[t], fused.losses()[t], 1e-5 * stock.losses()[t],
          "loss at step " + t);
    }
    double num = 0;
    double den = 0;
    for (int k = 0; k < stock.metaGradient().size(); k++) {
      float[] a = stock.metaGradient().get(k);
      float[] b = fused.metaGradient().get(k);
      for (int j = 0; j < a.length; j++) {
        num += (a[j] - b[j]) * (double) (a[j] - b[j]);
        den += a[j] * (double) a[j];
      }
    }
    assertTrue(den > 0, "a meta-gradient to compare");
    assertTrue(Math.sqrt(num / den) < 1e-4, "relative meta-gradient difference "
        + Math.sqrt(num / den));
  }

  @Test
  void quadraticUnrollAlsoAgrees() {
    Problem p = new QuadraticProblem(1, 10, QuadraticProblem.Distribution.GAUSSIAN, 0.01);
    Instance inst = p.sample(new SplittableRandom(8));
    Run stock = run(p, CoordinatewiseLstm.Kernel.STOCK, inst);
    Run fused = run(p, CoordinatewiseLstm.Kernel.FUSED, inst);
    assertEquals(stock.metaLoss(), fused.metaLoss(), 1e-5 * Math.abs(stock.metaLoss()));
  }
}
