package org.l2l.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.l2l.tf.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * The meta-optimizer's graph update against a plain-Java Adam in double precision: parameters of
 * three shapes (a matrix, a vector, a scalar), gradients fed per step, every parameter, moment and
 * the step counter compared after every step.
 */
class MetaAdamTest {

  private static final String[] NAMES = {"layer0/kernel", "layer0/bias", "scale"};
  private static final long[][] SHAPES = {{2, 3}, {4}, {}};
  private static final int STEPS = 6;
  private static final double LEARNING_RATE = 0.05;

  /**
   * Relative tolerance against the double reference (relative to each value's scale: |v|, and
   * for m and the parameters the magnitudes that would cancel, see {@link Reference}). The graph
   * computes in float32 with its constants rounded to float32. The largest error is in the bias
   * correction: 0.999 as a float32 is 0.99900001287, so 1 - beta2^t is 1.3e-5 too small for
   * every t and the step size sqrt(1 - beta2^t) / (1 - beta1^t) 6.4e-6 too small; the float32
   * arithmetic adds about 1e-6 (measured 6.7e-6 in all; 1.0e-6 against a reference that uses the
   * float32 constants). The step size depends only on t = 1..6, so this margin does not depend
   * on the gradients drawn.
   */
  private static final double TOLERANCE = 1e-5;

  private static int size(long[] shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    return n;
  }

  /** Initial parameter values in [-1, 1). */
  private static float[][] initialParams() {
    SplittableRandom rng = new SplittableRandom(5);
    float[][] p = new float[SHAPES.length][];
    for (int i = 0; i < SHAPES.length; i++) {
      p[i] = new float[size(SHAPES[i])];
      for (int j = 0; j < p[i].length; j++) {
        p[i][j] = (float) (2 * rng.nextDouble() - 1);
      }
    }
    return p;
  }

  /** Gradients of every step, new each step: both signs, magnitudes from 1e-3 to 10. */
  private static float[][][] gradients() {
    SplittableRandom rng = new SplittableRandom(42);
    float[][][] g = new float[STEPS][SHAPES.length][];
    for (int t = 0; t < STEPS; t++) {
      for (int i = 0; i < SHAPES.length; i++) {
        g[t][i] = new float[size(SHAPES[i])];
        for (int j = 0; j < g[t][i].length; j++) {
          g[t][i][j] = (float) ((rng.nextDouble() - 0.5) * Math.pow(10, rng.nextInt(-2, 2)));
        }
      }
    }
    return g;
  }

  /** What the graph holds after one step: every parameter, then every slot of MetaAdam. */
  private record State(List<float[]> params, List<float[]> slots) {
  }

  /** What a graph run gives: the slots' names and the state after every step. */
  private record Run(List<String> slotNames, List<State> states) {
  }

  /**
   * Builds a fresh graph with the parameters and MetaAdam's update, runs it once per step with
   * that step's gradients fed, and fetches everything after every step.
   *
   * @param ok whether each step is taken (MetaAdam's guard fed per step), or null for the
   *           unguarded update
   */
  private static Run runGraph(float[][][] g, boolean[] ok) {
    float[][] initial = initialParams();
    try (Graph graph = new Graph(); Session s = new Session(graph)) {
      Ops tf = Ops.create(graph);
      List<Variable<TFloat32>> params = new ArrayList<>();
      List<Placeholder<TFloat32>> gradFeeds = new ArrayList<>();
      for (int i = 0; i < SHAPES.length; i++) {
        Shape shape = Shape.of(SHAPES[i]);
        params.add(tf.withName(NAMES[i].replace('/', '_')).variable(
            tf.constant(shape, DataBuffers.of(initial[i], true, false))));
        gradFeeds.add(tf.placeholder(TFloat32.class, Placeholder.shape(shape)));
      }
      Placeholder<TBool> okFeed = ok == null ? null
          : tf.placeholder(TBool.class, Placeholder.shape(Shape.scalar()));
      MetaAdam adam = new MetaAdam(LEARNING_RATE);
      List<Operand<TFloat32>> grads = new ArrayList<>(gradFeeds);
      Op apply = ok == null ? adam.apply(tf, grads, params, List.of(NAMES))
          : adam.apply(tf, grads, params, List.of(NAMES), okFeed);
      List<State> states = new ArrayList<>();
      for (int t = 0; t < STEPS; t++) {
        List<Tensor> owned = new ArrayList<>();
        try {
          Session.Runner r = s.runner().addTarget(apply);
          for (int i = 0; i < SHAPES.length; i++) {
            TFloat32 gt = Tensors.floats(g[t][i], SHAPES[i]);
            owned.add(gt);
            r.feed(gradFeeds.get(i), gt);
          }
          if (ok != null) {
            TBool okt = TBool.scalarOf(ok[t]);
            owned.add(okt);
            r.feed(okFeed, okt);
          }
          r.run().close();
        } finally {
          owned.forEach(Tensor::close);
        }
        Session.Runner f = s.runner();
        params.forEach(f::fetch);
        adam.slots().forEach(f::fetch);
        try (Result out = f.run()) {
          List<float[]> p = new ArrayList<>();
          List<float[]> slots = new ArrayList<>();
          for (int i = 0; i < out.size(); i++) {
            (i < params.size() ? p : slots).add(Tensors.toArray(out.get(i)));
          }
          states.add(new State(p, slots));
        }
      }
      return new Run(List.copyOf(adam.slotNames()), states);
    }
  }

  /**
   * Adam in double precision with MetaAdam's hyperparameters as declared (doubles). Besides the
   * values it tracks the magnitudes that bound their rounding errors where terms of both signs
   * cancel.
   */
  private static final class Reference {
    private static final double B1 = MetaAdam.BETA1;
    private static final double B2 = MetaAdam.BETA2;

    final double[][] p = new double[SHAPES.length][];
    final double[][] m = new double[SHAPES.length][];
    final double[][] v = new double[SHAPES.length][];
    /** b1 mScale + (1 - b1) |g|: at least |m|, the scale of m's rounding error. */
    final double[][] mScale = new double[SHAPES.length][];
    /** |p0| + the sum of |delta|: the scale of p's rounding error. */
    final double[][] pScale = new double[SHAPES.length][];
    int t;

    Reference() {
      float[][] initial = initialParams();
      for (int i = 0; i < SHAPES.length; i++) {
        int n = initial[i].length;
        p[i] = new double[n];
        pScale[i] = new double[n];
        for (int j = 0; j < n; j++) {
          p[i][j] = initial[i][j];
          pScale[i][j] = Math.abs(initial[i][j]);
        }
        m[i] = new double[n];
        v[i] = new double[n];
        mScale[i] = new double[n];
      }
    }

    void step(float[][] g) {
      t++;
      double stepSize = LEARNING_RATE * Math.sqrt(1 - Math.pow(B2, t)) / (1 - Math.pow(B1, t));
      for (int i = 0; i < SHAPES.length; i++) {
        for (int j = 0; j < p[i].length; j++) {
          double gij = g[i][j];
          m[i][j] = B1 * m[i][j] + (1 - B1) * gij;
          mScale[i][j] = B1 * mScale[i][j] + (1 - B1) * Math.abs(gij);
          v[i][j] = B2 * v[i][j] + (1 - B2) * gij * gij;
          double delta = stepSize * m[i][j] / (Math.sqrt(v[i][j]) + MetaAdam.EPSILON);
          p[i][j] -= delta;
          pScale[i][j] += Math.abs(delta);
        }
      }
    }
  }

  /** Largest |actual - expected| / scale; fails where it exceeds the tolerance. */
  private static double check(String what, double[] expected, double[] scale, float[] actual) {
    assertEquals(expected.length, actual.length, what);
    double worst = 0;
    for (int j = 0; j < expected.length; j++) {
      double error = Math.abs(actual[j] - expected[j]) / scale[j];
      assertTrue(error <= TOLERANCE, what + "[" + j + "]: " + actual[j] + " but expected "
          + expected[j] + " (error " + error + " of " + scale[j] + ")");
      worst = Math.max(worst, error);
    }
    return worst;
  }

  private static double[] abs(double[] x) {
    double[] a = new double[x.length];
    for (int j = 0; j < x.length; j++) {
      a[j] = Math.abs(x[j]);
    }
    return a;
  }

  /** Compares one graph state with the reference; returns the largest relative error. */
  private static double compare(State state, Reference ref, String step) {
    double worst = 0;
    for (int i = 0; i < SHAPES.length; i++) {
      String name = step + " " + NAMES[i];
      worst = Math.max(worst, check(name, ref.p[i], ref.pScale[i], state.params().get(i)));
      worst = Math.max(worst, check(name + " m", ref.m[i], ref.mScale[i],
          state.slots().get(2 * i)));
      worst = Math.max(worst, check(name + " v", ref.v[i], abs(ref.v[i]),
          state.slots().get(2 * i + 1)));
    }
    float[] t = state.slots().get(2 * SHAPES.length);
    assertArrayEquals(new float[] {ref.t}, t, step + " t");
    return worst;
  }

  @Test
  void matchesPlainJavaAdamOverSixSteps() {
    float[][][] g = gradients();
    Run run = runGraph(g, null);
    assertEquals(List.of("layer0_kernel_m", "layer0_kernel_v", "layer0_bias_m", "layer0_bias_v",
        "scale_m", "scale_v", "t"), run.slotNames());
    Reference ref = new Reference();
    double worst = 0;
    for (int t = 0; t < STEPS; t++) {
      ref.step(g[t]);
      worst = Math.max(worst, compare(run.states().get(t), ref, "step " + (t + 1)));
    }
    System.out.println("MetaAdam against double Adam: largest relative error " + worst);
    // The parameters moved by many times the tolerance, so the comparison says something.
    for (int i = 0; i < SHAPES.length; i++) {
      float[] first = initialParams()[i];
      float[] last = run.states().get(STEPS - 1).params().get(i);
      for (int j = 0; j < first.length; j++) {
        assertTrue(Math.abs(last[j] - first[j]) > 1e3 * TOLERANCE * Math.abs(first[j]),
            NAMES[i] + "[" + j + "] moved");
      }
    }
  }

  @Test
  void repeatsBitForBitInAFreshGraph() {
    float[][][] g = gradients();
    Run a = runGraph(g, null);
    Run b = runGraph(g, null);
    for (int t = 0; t < STEPS; t++) {
      assertSameBits(a.states().get(t), b.states().get(t), "step " + (t + 1));
    }
  }

  @Test
  void stepsNotTakenLeaveNoTrace() {
    float[][][] g = gradients();
    // Steps 2 and 5 are refused and have non-finite gradients, as a bad meta-step would.
    boolean[] ok = {true, false, true, true, false, true};
    for (int t = 0; t < STEPS; t++) {
      if (!ok[t]) {
        g[t][0][1] = Float.NaN;
        g[t][1][0] = Float.POSITIVE_INFINITY;
        g[t][2][0] = Float.NaN;
      }
    }
    Run run = runGraph(g, ok);
    Reference ref = new Reference();
    for (int t = 0; t < STEPS; t++) {
      if (ok[t]) {
        ref.step(g[t]);
      } else {
        assertSameBits(run.states().get(t - 1), run.states().get(t), "refused step " + (t + 1));
      }
      compare(run.states().get(t), ref, "step " + (t + 1));
    }
    assertEquals(4, ref.t);
    // The steps taken equal the unguarded update on the same gradients, bit for bit.
    float[][][] taken = new float[STEPS][][];
    int k = 0;
    for (int t = 0; t < STEPS; t++) {
      if (ok[t]) {
        taken[k++] = g[t];
      }
    }
    for (; k < STEPS; k++) {
      taken[k] = gradients()[k];
    }
    Run plain = runGraph(taken, null);
    assertSameBits(plain.states().get(3), run.states().get(STEPS - 1), "after 4 steps taken");
  }

  private static void assertSameBits(State a, State b, String what) {
    assertEquals(a.params().size(), b.params().size());
    assertEquals(a.slots().size(), b.slots().size());
    for (int i = 0; i < a.params().size(); i++) {
      assertArrayEquals(bits(a.params().get(i)), bits(b.params().get(i)), what + " param " + i);
    }
    for (int i = 0; i < a.slots().size(); i++) {
      assertArrayEquals(bits(a.slots().get(i)), bits(b.slots().get(i)), what + " slot " + i);
    }
  }

  private static int[] bits(float[] x) {
    int[] b = new int[x.length];
    for (int j = 0; j < x.length; j++) {
      b[j] = Float.floatToRawIntBits(x[j]);
    }
    return b;
  }
}
