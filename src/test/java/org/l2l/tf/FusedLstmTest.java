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

  /** A constant [rows, cols] holding values row by row. */
  private static Operand<TFloat32> matrix(Ops tf, float[] values, long rows, long cols) {
    return tf.constant(org.tensorflow.ndarray.Shape.of(rows, cols),
        org.tensorflow.ndarray.buffer.DataBuffers.of(values, true, false));
  }

  /**
   * The step op's weight count for 2 layers of h units on {@code inputs} inputs: each layer's
   * kernel over [input; h; 1] for the 4h gates, then the output layer's h weights and bias.
   */
  private static int twoLayerWeights(int h, int inputs) {
    return (inputs + h + 1) * 4 * h + (2 * h + 1) * 4 * h + h + 1;
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
      Operand<TFloat32> zc = matrix(tf, z, 4 * H, N);
      Operand<TFloat32> cc = matrix(tf, c, H, N);
      List<Operand<TFloat32>> cell = FusedLstm.cell(tf, zc, cc);
      List<Operand<TFloat32>> grad = FusedLstm.cellGrad(tf, cell.get(2), cc,
          matrix(tf, dcNext, H, N), matrix(tf, dh, H, N));
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
    return run(p, kernel, inst, 0, false);
  }

  private static Run run(Problem p, CoordinatewiseLstm.Kernel kernel, Instance inst,
      int kernelThreads, boolean secondDerivatives) {
    try (Unroll u = new Unroll(p, new CoordinatewiseLstm(CONFIG, kernel, "lstm", kernelThreads),
        new Unroll.Options(5, secondDerivatives, false, 0.001, 0, 11, 2))) {
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

  private static double relativeDifference(List<float[]> expected, List<float[]> got) {
    double num = 0;
    double den = 0;
    assertEquals(expected.size(), got.size());
    for (int k = 0; k < expected.size(); k++) {
      float[] a = expected.get(k);
      float[] b = got.get(k);
      assertEquals(a.length, b.length);
      for (int j = 0; j < a.length; j++) {
        num += (a[j] - b[j]) * (double) (a[j] - b[j]);
        den += a[j] * (double) a[j];
      }
    }
    assertTrue(den > 0, "a meta-gradient to compare");
    return Math.sqrt(num / den);
  }

  /**
   * The whole-step kernel on an MNIST net of 4,810 coordinates (19 chunks of work in 8 gradient
   * tasks, the last chunk short, so that blocks, chunks, threads and the partial weight gradients
   * are all exercised): losses and meta-gradient as on stock ops, and the same bits on 1, 2 and
   * 3 threads.
   */
  @Test
  void stepKernelMatchesStockAndDoesNotDependOnThreads() {
    var data = org.l2l.problem.MnistProblemTest.tinyData(200, 64, 5);
    Problem p = new MnistProblem(64, 1, MnistProblem.Activation.SIGMOID, 8, 64, () -> data);
    assertEquals(4810, p.numCoordinates()); // above the op's 1,024 columns for threads
    Instance inst = p.sample(new SplittableRandom(4));
    Run stock = run(p, CoordinatewiseLstm.Kernel.STOCK, inst);
    Run one = run(p, CoordinatewiseLstm.Kernel.STEP, inst, 1, false);
    Run two = run(p, CoordinatewiseLstm.Kernel.STEP, inst, 2, false);
    Run three = run(p, CoordinatewiseLstm.Kernel.STEP, inst, 3, false);
    for (Run other : List.of(two, three)) {
      assertArrayEquals(one.losses(), other.losses(), "threads do not change the bits");
      assertEquals(one.metaLoss(), other.metaLoss());
      for (int k = 0; k < one.metaGradient().size(); k++) {
        assertArrayEquals(one.metaGradient().get(k), other.metaGradient().get(k));
      }
    }
    for (int t = 0; t < stock.losses().length; t++) {
      assertEquals(stock.losses()[t], one.losses()[t], 1e-5 * stock.losses()[t],
          "loss at step " + t);
    }
    double rel = relativeDifference(stock.metaGradient(), one.metaGradient());
    assertTrue(rel < 1e-4, "relative meta-gradient difference " + rel);
  }

  /**
   * With second derivatives the gradient also flows into the LSTM's input: dx is used (the MNIST
   * net of 4,810 coordinates, so that the step op runs; a 4,100-dim gaussian quadratic is too
   * ill-conditioned: there the fused cells and stock ops differ by 8% too).
   */
  @Test
  void stepKernelInputGradientMatchesStock() {
    var data = org.l2l.problem.MnistProblemTest.tinyData(200, 64, 5);
    Problem p = new MnistProblem(64, 1, MnistProblem.Activation.SIGMOID, 8, 64, () -> data);
    Instance inst = p.sample(new SplittableRandom(4));
    Run stock = run(p, CoordinatewiseLstm.Kernel.STOCK, inst, 0, true);
    Run step = run(p, CoordinatewiseLstm.Kernel.STEP, inst, 0, true);
    Run firstOrder = run(p, CoordinatewiseLstm.Kernel.STEP, inst, 0, false);
    assertEquals(stock.metaLoss(), step.metaLoss(), 1e-5 * Math.abs(stock.metaLoss()));
    double rel = relativeDifference(stock.metaGradient(), step.metaGradient());
    assertTrue(rel < 1e-4, "relative meta-gradient difference " + rel);
    double firstVsSecond = relativeDifference(step.metaGradient(), firstOrder.metaGradient());
    assertTrue(firstVsSecond > 1e-3, "the second-order terms matter here: " + firstVsSecond);
  }

  /** One step of the L2lLstmStep op in double precision: forward and backward. */
  private static final class StepReference {
    final int layers;
    final int hidden;
    final int inputs;
    final int columns;
    final double[] y;
    final double[] stateNext;
    final double[] dx;
    final double[] dstate;
    final double[] dweights;

    StepReference(int layers, int hidden, int inputs, int columns, float[] x, float[] state,
        float[] w, float[] dy, float[] dstateNext) {
      this.layers = layers;
      this.hidden = hidden;
      this.inputs = inputs;
      this.columns = columns;
      int h = hidden;
      int m = 4 * h;
      y = new double[columns];
      stateNext = new double[2 * layers * h * columns];
      dx = new double[inputs * columns];
      dstate = new double[stateNext.length];
      dweights = new double[w.length];
      int[] offset = new int[layers + 1];
      for (int l = 0; l < layers; l++) {
        offset[l + 1] = offset[l] + ((l == 0 ? inputs : h) + h + 1) * m;
      }
      int out = offset[layers];
      for (int j = 0; j < columns; j++) {
        double[][] in = new double[layers][];
        double[][] act = new double[layers][];
        double[] below = new double[inputs];
        for (int k = 0; k < inputs; k++) {
          below[k] = x[k * columns + j];
        }
        for (int l = 0; l < layers; l++) {
          int rows = below.length + h + 1;
          in[l] = new double[rows];
          System.arraycopy(below, 0, in[l], 0, below.length);
          for (int u = 0; u < h; u++) {
            in[l][below.length + u] = state[((2 * l + 1) * h + u) * columns + j];
          }
          in[l][rows - 1] = 1;
          act[l] = new double[5 * h];
          double[] hNext = new double[h];
          for (int u = 0; u < h; u++) {
            double[] z = new double[4];
            for (int gate = 0; gate < 4; gate++) {
              for (int k = 0; k < rows; k++) {
                z[gate] += w[offset[l] + k * m + gate * h + u] * in[l][k];
              }
            }
            double i = sigmoid(z[0]);
            double f = sigmoid(z[1]);
            double o = sigmoid(z[2]);
            double g = Math.tanh(z[3]);
            double c = f * state[(2 * l * h + u) * columns + j] + i * g;
            double t = Math.tanh(c);
            act[l][u] = i;
            act[l][h + u] = f;
            act[l][2 * h + u] = o;
            act[l][3 * h + u] = g;
            act[l][4 * h + u] = t;
            stateNext[(2 * l * h + u) * columns + j] = c;
            hNext[u] = o * t;
            stateNext[((2 * l + 1) * h + u) * columns + j] = o * t;
          }
          below = hNext;
        }
        y[j] = w[out + h];
        for (int u = 0; u < h; u++) {
          y[j] += w[out + u] * below[u];
        }
        // backward
        double[] dh = new double[h];
        for (int u = 0; u < h; u++) {
          dh[u] = dstateNext[((2 * layers - 1) * h + u) * columns + j] + w[out + u] * dy[j];
          dweights[out + u] += dy[j] * below[u];
        }
        dweights[out + h] += dy[j];
        for (int l = layers - 1; l >= 0; l--) {
          int rows = in[l].length;
          double[] dz = new double[m];
          for (int u = 0; u < h; u++) {
            double i = act[l][u];
            double f = act[l][h + u];
            double o = act[l][2 * h + u];
            double g = act[l][3 * h + u];
            double t = act[l][4 * h + u];
            double dct = dstateNext[(2 * l * h + u) * columns + j] + dh[u] * o * (1 - t * t);
            dz[u] = dct * g * i * (1 - i);
            dz[h + u] = dct * state[(2 * l * h + u) * columns + j] * f * (1 - f);
            dz[2 * h + u] = dh[u] * t * o * (1 - o);
            dz[3 * h + u] = dct * i * (1 - g * g);
            dstate[(2 * l * h + u) * columns + j] = dct * f;
          }
          double[] din = new double[rows];
          for (int k = 0; k < rows; k++) {
            for (int r = 0; r < m; r++) {
              dweights[offset[l] + k * m + r] += in[l][k] * dz[r];
              din[k] += w[offset[l] + k * m + r] * dz[r];
            }
          }
          int below2 = rows - h - 1;
          for (int u = 0; u < h; u++) {
            dstate[((2 * l + 1) * h + u) * columns + j] = din[below2 + u];
          }
          if (l == 0) {
            for (int k = 0; k < inputs; k++) {
              dx[k * columns + j] = din[k];
            }
          } else {
            dh = new double[h];
            for (int u = 0; u < h; u++) {
              dh[u] = dstateNext[((2 * l - 1) * h + u) * columns + j] + din[u];
            }
          }
        }
      }
    }
  }

  private static void assertClose(double[] expected, float[] got, String what) {
    assertEquals(expected.length, got.length, what + " length");
    double scale = 0;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    assertTrue(scale > 0, what + " is not all zero");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], got[i], 2e-6 * scale, what + " at " + i);
    }
  }

  /**
   * The step op and its gradient against {@link StepReference}, on 2 layers of 5 units, 2
   * inputs and 4,160 columns (17 chunks of work in 8 gradient tasks, the last chunk one short
   * block; from 1,024 columns the op uses its threads), with the widest vectors this CPU has and
   * with 8-float vectors, on 1 and 2 threads; and on 352 columns (one thread, one task).
   */
  @Test
  void stepOpMatchesPlainJava() {
    stepOpMatchesPlainJava(4160);
    stepOpMatchesPlainJava(352);
  }

  private void stepOpMatchesPlainJava(int cols) {
    int layers = 2;
    int h = 5;
    int inputs = 2;
    int weights = twoLayerWeights(h, inputs);
    SplittableRandom rng = new SplittableRandom(12);
    float[] x = random(rng, inputs * cols, 3);
    float[] state = random(rng, 2 * layers * h * cols, 1.5);
    float[] w = random(rng, weights, 0.8);
    float[] dy = random(rng, cols, 1);
    float[] dstateNext = random(rng, state.length, 0.5);
    StepReference ref = new StepReference(layers, h, inputs, cols, x, state, w, dy, dstateNext);
    List<float[]> first = null;
    for (float[] dims : List.of(new float[] {layers, 1, 0}, new float[] {layers, 2, 0},
        new float[] {layers, 2, 8})) {
      List<float[]> got = new java.util.ArrayList<>();
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        var xs = matrix(tf, x, inputs, cols);
        int rows = 2 * layers * h;
        // The ops keep the state in their own order (blocks of columns): in and out through it.
        var ss = matrix(tf, FusedLstm.stepStateOrder(state, rows, cols), rows, cols);
        var ws = tf.constant(w);
        List<Operand<TFloat32>> out = FusedLstm.step(tf, xs, ss, ws, tf.constant(dims));
        // Shapes known when the graph is built: y is [columns], the next state the state's.
        assertEquals(org.tensorflow.ndarray.Shape.of(cols), out.get(0).shape());
        assertEquals(org.tensorflow.ndarray.Shape.of(2L * layers * h, cols), out.get(1).shape());
        // A loss whose gradients with respect to y and the next state are dy and dstateNext.
        Operand<TFloat32> loss = tf.math.add(
            tf.reduceSum(tf.math.mul(out.get(0), tf.constant(dy)), tf.constant(0)),
            tf.reduceSum(tf.math.mul(out.get(1),
                matrix(tf, FusedLstm.stepStateOrder(dstateNext, rows, cols), rows, cols)),
                tf.constant(new int[] {0, 1})));
        var grads = tf.gradients(loss, List.of(xs, ss, ws));
        try (var r = s.runner().fetch(out.get(0)).fetch(out.get(1)).fetch(grads.dy(0))
            .fetch(grads.dy(1)).fetch(grads.dy(2)).run()) {
          for (int i = 0; i < 5; i++) {
            float[] v = Tensors.toArray(r.get(i));
            got.add(i == 1 || i == 3 ? FusedLstm.rowMajorOrder(v, rows, cols) : v);
          }
        }
      }
      String how = cols + " columns, threads " + (int) dims[1] + ", vectors " + (int) dims[2]
          + ": ";
      assertClose(ref.y, got.get(0), how + "y");
      assertClose(ref.stateNext, got.get(1), how + "next state");
      assertClose(ref.dx, got.get(2), how + "dx");
      assertClose(ref.dstate, got.get(3), how + "dstate");
      assertClose(ref.dweights, got.get(4), how + "dweights");
      if (first == null) {
        first = got;
      } else if (dims[2] == 0) {
        for (int i = 0; i < 5; i++) {
          assertArrayEquals(first.get(i), got.get(i), how + "the same bits on 1 thread");
        }
      }
    }
  }

  /**
   * x of fewer columns than the state (the unroll's unpadded coordinates): the same y, next
   * state and gradients, bit for bit, as x and dy padded with zeros to the state's columns; at
   * 4,147 columns the last block reaches past them (and x's second row starts unaligned), at
   * 4,000 two blocks lie wholly past them.
   */
  @Test
  void stepOpTakesFewerColumnsThanItsStateBitForBit() {
    int layers = 2;
    int h = 5;
    int cols = 4160;
    int rows = 2 * layers * h;
    int weights = twoLayerWeights(h, 2);
    SplittableRandom rng = new SplittableRandom(14);
    float[] state = random(rng, rows * cols, 1.5);
    float[] w = random(rng, weights, 0.8);
    float[] dstateNext = random(rng, rows * cols, 0.5);
    for (int n : new int[] {4147, 4000}) {
      float[] x = random(rng, 2 * n, 3);
      float[] dy = random(rng, n, 1);
      float[] xPadded = new float[2 * cols];
      for (int k = 0; k < 2; k++) {
        System.arraycopy(x, k * n, xPadded, k * cols, n);
      }
      float[] dyPadded = java.util.Arrays.copyOf(dy, cols);
      List<float[]> unpadded = stepAndGradients(layers, rows, x, n, state, cols, w, dy,
          dstateNext);
      List<float[]> padded = stepAndGradients(layers, rows, xPadded, cols, state, cols, w,
          dyPadded, dstateNext);
      assertEquals(n, unpadded.get(0).length, "y has x's columns");
      assertArrayEquals(java.util.Arrays.copyOf(padded.get(0), n), unpadded.get(0), n + ": y");
      assertArrayEquals(padded.get(1), unpadded.get(1), n + ": next state");
      assertEquals(2 * n, unpadded.get(2).length, "dx has x's shape");
      for (int k = 0; k < 2; k++) {
        assertArrayEquals(java.util.Arrays.copyOfRange(padded.get(2), k * cols, k * cols + n),
            java.util.Arrays.copyOfRange(unpadded.get(2), k * n, k * n + n), n + ": dx row " + k);
      }
      assertArrayEquals(padded.get(3), unpadded.get(3), n + ": dstate");
      assertArrayEquals(padded.get(4), unpadded.get(4), n + ": dweights");
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<TFloat32>> wide = FusedLstm.step(tf, tf.constant(new float[2][48]),
          tf.constant(new float[rows][32]), tf.constant(w), tf.constant(new float[] {2, 1, 0}));
      TFInvalidArgumentException e = assertThrows(TFInvalidArgumentException.class,
          () -> s.runner().fetch(wide.get(0)).run().close());
      assertTrue(e.getMessage().contains("at least x's"), e.getMessage());
    }
  }

  /**
   * A session whose ops all run on the calling thread (negative inter-op threads): a Java thread,
   * which, unlike TensorFlow's own threads, does not flush denormals.
   */
  private static final org.tensorflow.proto.ConfigProto CALLER_THREAD =
      org.tensorflow.proto.ConfigProto.newBuilder().setInterOpParallelismThreads(-1).build();

  /** The scales of the flushing tests: denormal, then normal but tiny. */
  private static final float[] TINY_SCALES = {1e-39f, 1e-30f};

  /** n values of magnitude scale to 7 scale, alternating in sign. */
  private static float[] tiny(int n, float scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = scale * (1 + (i % 7)) * (i % 2 == 0 ? 1 : -1);
    }
    return v;
  }

  /**
   * A gradient of inputs of magnitude scale: every value exactly zero where scale is denormal
   * (flushed), more than half of them non-zero where it is not (so that the check can fail).
   */
  private static void assertFlushedBelowNormal(float[] gradient, float scale, String what) {
    long nonZero = 0;
    for (float e : gradient) {
      nonZero += e != 0f ? 1 : 0;
    }
    if (scale < Float.MIN_NORMAL) {
      assertEquals(0, nonZero, what + " of denormal inputs");
    } else {
      assertTrue(nonZero > gradient.length / 2, what + " of inputs of " + scale + ": " + nonZero
          + " non-zero of " + gradient.length);
    }
  }

  /**
   * The step ops flush denormals to zero, on whichever thread they run: a dy of denormals (below
   * 1.18e-38), fed straight into the gradient op, reads as zero, so every gradient is exactly
   * zero, on 2 threads (the op's helpers included). A dy of normal tiny values (1e-30) still
   * gives gradients, so that this test can fail.
   */
  @Test
  void stepOpFlushesDenormalsOnEveryThread() {
    int layers = 2;
    int h = 5;
    int cols = 4160;
    int rows = 2 * layers * h;
    int weights = twoLayerWeights(h, 2);
    SplittableRandom rng = new SplittableRandom(15);
    float[] x = random(rng, 2 * cols, 3);
    float[] state = random(rng, rows * cols, 1.5);
    float[] w = random(rng, weights, 0.8);
    String[] names = {"dx", "dstate", "dweights"};
    for (float scale : TINY_SCALES) {
      try (Graph g = new Graph(); Session s = new Session(g, CALLER_THREAD);
          TFloat32 dyFed = TFloat32.vectorOf(tiny(cols, scale))) {
        Ops tf = Ops.create(g);
        var xs = matrix(tf, x, 2, cols);
        var ss = matrix(tf, state, rows, cols);
        var ws = tf.constant(w);
        List<Operand<TFloat32>> out = FusedLstm.step(tf, xs, ss, ws,
            tf.constant(new float[] {layers, 2, 0}));
        var dyIn = tf.placeholder(TFloat32.class,
            org.tensorflow.op.core.Placeholder.shape(org.tensorflow.ndarray.Shape.of(cols)));
        var grads = tf.gradients(List.of(out.get(0), out.get(1)), List.of(xs, ss, ws),
            org.tensorflow.op.core.Gradients.dx(List.of(dyIn, tf.zerosLike(out.get(1)))));
        try (var r = s.runner().feed(dyIn, dyFed).fetch(grads.dy(0)).fetch(grads.dy(1))
            .fetch(grads.dy(2)).run()) {
          for (int i = 0; i < 3; i++) {
            assertFlushedBelowNormal(Tensors.toArray(r.get(i)), scale, names[i]);
          }
        }
      }
    }
  }

  /**
   * The cell kernels flush denormals too: the cell gradient of denormal dh and dc_next, on a
   * session that runs the ops on the calling thread, is exactly zero; of 1e-30 it is not.
   */
  @Test
  void cellGradFlushesDenormals() {
    SplittableRandom rng = new SplittableRandom(16);
    float[] z = gates(rng);
    float[] c = random(rng, H * N, 2);
    for (float scale : TINY_SCALES) {
      try (Graph g = new Graph(); Session s = new Session(g, CALLER_THREAD);
          TFloat32 fed = TFloat32.tensorOf(org.tensorflow.ndarray.Shape.of(H, N),
              org.tensorflow.ndarray.buffer.DataBuffers.of(tiny(H * N, scale), true, false))) {
        Ops tf = Ops.create(g);
        Operand<TFloat32> cc = matrix(tf, c, H, N);
        List<Operand<TFloat32>> cell = FusedLstm.cell(tf, matrix(tf, z, 4 * H, N), cc);
        var in = tf.placeholder(TFloat32.class,
            org.tensorflow.op.core.Placeholder.shape(org.tensorflow.ndarray.Shape.of(H, N)));
        List<Operand<TFloat32>> grad = FusedLstm.cellGrad(tf, cell.get(2), cc, in, in);
        try (var out = s.runner().feed(in, fed).fetch(grad.get(0)).fetch(grad.get(1)).run()) {
          assertFlushedBelowNormal(Tensors.toArray(out.get(0)), scale, "dz");
          assertFlushedBelowNormal(Tensors.toArray(out.get(1)), scale, "dc");
        }
      }
    }
  }

  /** y, the next state, and the gradients of x, state and weights for dy and dstateNext. */
  private static List<float[]> stepAndGradients(int layers, int rows, float[] x, int n,
      float[] state, int cols, float[] w, float[] dy, float[] dstateNext) {
    List<float[]> got = new java.util.ArrayList<>();
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var xs = matrix(tf, x, 2, n);
      var ss = matrix(tf, state, rows, cols);
      var ws = tf.constant(w);
      List<Operand<TFloat32>> out = FusedLstm.step(tf, xs, ss, ws,
          tf.constant(new float[] {layers, 2, 0}));
      Operand<TFloat32> loss = tf.math.add(
          tf.reduceSum(tf.math.mul(out.get(0), tf.constant(dy)), tf.constant(0)),
          tf.reduceSum(tf.math.mul(out.get(1), matrix(tf, dstateNext, rows, cols)),
              tf.constant(new int[] {0, 1})));
      var grads = tf.gradients(loss, List.of(xs, ss, ws));
      try (var r = s.runner().fetch(out.get(0)).fetch(out.get(1)).fetch(grads.dy(0))
          .fetch(grads.dy(1)).fetch(grads.dy(2)).run()) {
        for (int i = 0; i < 5; i++) {
          got.add(Tensors.toArray(r.get(i)));
        }
      }
    }
    return got;
  }

  /** The step ops' state order: blocks of 128 columns, a block's rows one after another. */
  @Test
  void stepStateOrderIsBlocksOfColumns() {
    int rows = 3;
    int cols = 160; // a block of 128 and one of 32
    float[] m = new float[rows * cols];
    for (int i = 0; i < m.length; i++) {
      m[i] = i;
    }
    float[] o = FusedLstm.stepStateOrder(m, rows, cols);
    assertEquals(1 * cols + 5, o[1 * 128 + 5], "(1, 5) in the first block");
    assertEquals(2 * cols + 127, o[2 * 128 + 127], "(2, 127)");
    assertEquals(0 * cols + 128, o[3 * 128], "(0, 128) opens the second block");
    assertEquals(2 * cols + 130, o[3 * 128 + 2 * 32 + 2], "(2, 130): rows 32 apart there");
    assertArrayEquals(m, FusedLstm.rowMajorOrder(o, rows, cols));
  }

  /**
   * keep 0 (dims[3], for graphs without a gradient): the same y and next state, bit for bit, no
   * gates kept, and a gradient refused with a message that says why.
   */
  @Test
  void stepWithoutGatesIsTheSameStepAndRefusesAGradient() {
    int layers = 2;
    int h = 5;
    int cols = 4160;
    int weights = twoLayerWeights(h, 2);
    SplittableRandom rng = new SplittableRandom(13);
    float[] x = random(rng, 2 * cols, 3);
    float[] state = random(rng, 2 * layers * h * cols, 1.5);
    float[] w = random(rng, weights, 0.8);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var xs = matrix(tf, x, 2, cols);
      var ss = matrix(tf, state, 2L * layers * h, cols);
      var ws = tf.constant(w);
      List<Operand<TFloat32>> kept = FusedLstm.step(tf, xs, ss, ws,
          tf.constant(new float[] {layers, 2, 0, 1}));
      List<Operand<TFloat32>> bare = FusedLstm.step(tf, xs, ss, ws,
          tf.constant(new float[] {layers, 2, 0, 0}));
      try (var r = s.runner().fetch(kept.get(0)).fetch(kept.get(1)).fetch(kept.get(2))
          .fetch(bare.get(0)).fetch(bare.get(1)).fetch(bare.get(2)).run()) {
        assertArrayEquals(Tensors.toArray(r.get(0)), Tensors.toArray(r.get(3)), "y");
        assertArrayEquals(Tensors.toArray(r.get(1)), Tensors.toArray(r.get(4)), "next state");
        assertEquals(4L * layers * h * cols, r.get(2).shape().size(), "gates kept (i, f, o, g)");
        assertEquals(org.tensorflow.ndarray.Shape.of(4L * layers * h, 0), r.get(5).shape());
      }
      Operand<TFloat32> loss = tf.reduceSum(bare.get(0), tf.constant(0));
      var grads = tf.gradients(loss, List.of(ws));
      TFInvalidArgumentException e = assertThrows(TFInvalidArgumentException.class,
          () -> s.runner().fetch(grads.dy(0)).run().close());
      assertTrue(e.getMessage().contains("kept no gates"), e.getMessage());
    }
  }

  /**
   * An unroll that takes no meta-gradient (evaluation) builds the step op with keep 0, a
   * training unroll with keep 1; both give the same losses, bit for bit.
   */
  @Test
  void evaluationUnrollKeepsNoGates() {
    Problem p = new QuadraticProblem(128, 10, QuadraticProblem.Distribution.UNIFORM, 0.01);
    Instance inst = p.sample(new SplittableRandom(8));
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(CONFIG, CoordinatewiseLstm.Kernel.STEP);
    List<float[]> losses = new java.util.ArrayList<>();
    // The same seed (the same initial weights); meta-learning rate 0: evaluation.
    for (Unroll.Options options : List.of(new Unroll.Options(5, false, false, 0, 0, 11, 2),
        new Unroll.Options(5, false, false, 0.001, 0, 11, 2))) {
      try (Unroll u = new Unroll(p, lstm, options)) {
        var dims = u.graph().operation("lstm/fused/dims");
        try (var r = u.session().runner().fetch(dims.output(0)).run()) {
          float[] d = Tensors.toArray(r.get(0));
          assertEquals(4, d.length);
          assertEquals(options.metaLearningRate() > 0 ? 1f : 0f, d[3], "keep");
        }
        u.reset(inst);
        losses.add(u.run(inst, 0).losses());
      }
    }
    assertArrayEquals(losses.get(0), losses.get(1));
  }

  /**
   * A training graph's step keeps its gates, unless a run feeds what the rule's
   * feedWithoutGradient gives (Unroll does, for runs without a meta-step: validations): then
   * none, with the same update and next state bit for bit.
   */
  @Test
  void trainingStepKeepsNoGatesWhenFedWithoutGradient() {
    int n = 300;
    float[] grad = random(new SplittableRandom(15), n, 0.1);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      CoordinatewiseLstm lstm = new CoordinatewiseLstm(CONFIG, CoordinatewiseLstm.Kernel.STEP);
      var rg = lstm.build(tf, n, new SplittableRandom(3));
      List<Operand<TFloat32>> state = new java.util.ArrayList<>();
      for (var shape : rg.stateShapes()) {
        state.add(tf.zeros(tf.constant(shape), TFloat32.class));
      }
      var step = rg.step(tf, tf.constant(grad), state);
      List<org.tensorflow.GraphOperation> act = new java.util.ArrayList<>();
      g.operations().forEachRemaining(op -> {
        if (op.type().equals("L2lLstmStep")) {
          act.add(op);
        }
      });
      assertEquals(1, act.size(), "one step op");
      s.initialize();
      List<float[]> kept = new java.util.ArrayList<>();
      List<float[]> bare = new java.util.ArrayList<>();
      for (boolean without : new boolean[] {false, true}) {
        List<org.tensorflow.Tensor> owned = new java.util.ArrayList<>();
        Session.Runner r = s.runner().fetch(step.update()).fetch(step.state().get(0))
            .fetch(act.get(0).output(2));
        if (without) {
          rg.feedWithoutGradient(r, owned);
        }
        try (var out = r.run()) {
          (without ? bare : kept).add(Tensors.toArray(out.get(0)));
          (without ? bare : kept).add(Tensors.toArray(out.get(1)));
          // 300 coordinates: the state has 320 columns
          assertEquals(without ? 0 : 4L * CONFIG.layers() * CONFIG.hiddenSize() * 320,
              out.get(2).shape().size(), "gates kept: " + !without);
        } finally {
          owned.forEach(org.tensorflow.Tensor::close);
        }
      }
      assertArrayEquals(kept.get(0), bare.get(0), "update");
      assertArrayEquals(kept.get(1), bare.get(1), "next state");
    }
  }

  @Test
  void stepBadShapesAreErrors() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      // 2 layers of H = 3 with 2 inputs take (2 + 3 + 1) 12 + (3 + 3 + 1) 12 + 4 = 160 weights
      List<Operand<TFloat32>> out = FusedLstm.step(tf, tf.constant(new float[2][32]),
          tf.constant(new float[12][32]), tf.constant(new float[7]),
          tf.constant(new float[] {2, 1, 0}));
      TFInvalidArgumentException e = assertThrows(TFInvalidArgumentException.class,
          () -> s.runner().fetch(out.get(0)).run().close());
      assertTrue(e.getMessage().contains("weights has the wrong length"), e.getMessage());
      List<Operand<TFloat32>> odd = FusedLstm.step(tf, tf.constant(new float[2][16]),
          tf.constant(new float[12][16]), tf.constant(new float[7]),
          tf.constant(new float[] {2, 1, 0}));
      e = assertThrows(TFInvalidArgumentException.class,
          () -> s.runner().fetch(odd.get(0)).run().close());
      assertTrue(e.getMessage().contains("a multiple of 32"), e.getMessage());
    }
  }

  /** XLA-compiled stock ops: the stock path's function, and the same bits run to run. */
  @Test
  void xlaUnrollMatchesStockAndRepeatsBitForBit() {
    Problem p = new QuadraticProblem(1, 10, QuadraticProblem.Distribution.GAUSSIAN, 0.01);
    Instance inst = p.sample(new SplittableRandom(8));
    Run stock = run(p, CoordinatewiseLstm.Kernel.STOCK, inst);
    Run xla = run(p, CoordinatewiseLstm.Kernel.XLA, inst);
    Run again = run(p, CoordinatewiseLstm.Kernel.XLA, inst);
    assertArrayEquals(xla.losses(), again.losses(), "the same run twice: the same bits");
    for (int k = 0; k < xla.metaGradient().size(); k++) {
      assertArrayEquals(xla.metaGradient().get(k), again.metaGradient().get(k));
    }
    assertEquals(stock.metaLoss(), xla.metaLoss(), 1e-5 * Math.abs(stock.metaLoss()));
    double rel = relativeDifference(stock.metaGradient(), xla.metaGradient());
    assertTrue(rel < 1e-4, "relative meta-gradient difference " + rel);
  }

  /**
   * Small problems run the step op too (one 10-dim quadratic: 32 padded columns, one block on
   * the caller's thread; the batch of 128: 1,280 columns, several chunks): losses and
   * meta-gradient as on stock ops, and not the fused cells' bits (so the step op ran).
   */
  @Test
  void smallProblemsOnTheStepKernelMatchStock() {
    for (Problem p : List.of(
        new QuadraticProblem(1, 10, QuadraticProblem.Distribution.GAUSSIAN, 0.01),
        new QuadraticProblem(128, 10, QuadraticProblem.Distribution.UNIFORM, 0.01))) {
      Instance inst = p.sample(new SplittableRandom(8));
      Run stock = run(p, CoordinatewiseLstm.Kernel.STOCK, inst);
      Run fused = run(p, CoordinatewiseLstm.Kernel.FUSED, inst);
      Run step = run(p, CoordinatewiseLstm.Kernel.STEP, inst);
      for (int t = 0; t < stock.losses().length; t++) {
        assertEquals(stock.losses()[t], step.losses()[t], 1e-5 * stock.losses()[t],
            p.numCoordinates() + " coordinates, loss at step " + t);
      }
      double rel = relativeDifference(stock.metaGradient(), step.metaGradient());
      assertTrue(rel < 1e-4, p.numCoordinates() + " coordinates: relative difference " + rel);
      assertTrue(relativeDifference(fused.metaGradient(), step.metaGradient()) > 0,
          "the step op, not the fused cells");
    }
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
