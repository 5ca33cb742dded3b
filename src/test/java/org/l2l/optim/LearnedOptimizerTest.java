package org.l2l.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.l2l.io.OptimizerFile;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import org.l2l.rule.RuleGraph;
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
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/** LearnedOptimizer as a framework optimizer: the rule per variable, slots, names, refusals. */
class LearnedOptimizerTest {

  static final CoordinatewiseLstm.Config CONFIG =
      new CoordinatewiseLstm.Config(2, 5, 1.0, 0.5, Preprocessing.LOG_AND_SIGN, 5);

  static OptimizerFile.Loaded optimizer() {
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(CONFIG);
    return new OptimizerFile.Loaded(org.l2l.rule.RuleMap.DEFAULT, java.util.List.of(
        new OptimizerFile.TrainedRule(lstm.scope(), lstm.type(), lstm.configJson(),
            lstm.initialValues(new SplittableRandom(4)))), new com.google.gson.JsonObject());
  }

  static float[] fetch(Session s, Operand<TFloat32> x) {
    try (Result r = s.runner().fetch(x).run()) {
      return Tensors.toArray(r.get(0));
    }
  }

  /**
   * A [2, 3] variable inside a name scope, with the constant gradient c (loss = sum(c * v)),
   * moves as the project's rule moves the flat vector c over 3 steps; its state slot holds the
   * rule's packed state.
   */
  @Test
  void matrixVariableInANameScopeFollowsTheProjectsRule() {
    float[] c = {0.3f, -2f, 1e-4f, 0f, 5f, -0.07f};
    float[] v0 = {1f, 2f, 3f, 4f, 5f, 6f};
    int steps = 3;
    float[] trained;
    float[] slotValue;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Ops dense = tf.withSubScope("dense");
      Variable<TFloat32> v = dense.withName("kernel").variable(
          tf.constant(Shape.of(2, 3), DataBuffers.of(v0)));
      Operand<TFloat32> loss = tf.reduceSum(tf.math.mul(v,
          tf.constant(Shape.of(2, 3), DataBuffers.of(c))), tf.constant(new int[] {0, 1}));
      LearnedOptimizer opt = new LearnedOptimizer(g, optimizer());
      Op step = opt.minimize(loss);
      Variable<TFloat32> slot = opt.getSlot(v.asOutput(), LearnedOptimizer.STATE_SLOT).get();
      assertEquals(Shape.of(6, 2 * 2 * 5), slot.shape());
      assertEquals("LearnedOptimizer/dense.kernel/lstm_state", slot.op().name());
      assertTrue(opt.getSlot(v.asOutput(), "m").isEmpty());
      try (Session s = new Session(g)) {
        for (int t = 0; t < steps; t++) {
          s.run(step);
        }
        trained = fetch(s, v);
        slotValue = fetch(s, slot);
      }
    }

    // Reference: the project's rule (weights in variables) on the flat gradient c.
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(CONFIG);
    float[] expected = v0.clone();
    float[] expectedState;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      RuleGraph rule = lstm.build(tf, 6, new SplittableRandom(4));
      Placeholder<TFloat32> grad = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(6)));
      List<Placeholder<TFloat32>> in = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        in.add(tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(6, 5))));
      }
      RuleGraph.Step st = lstm.step(tf, rule.metaParams(), grad, new ArrayList<>(in));
      Operand<TFloat32> packed = lstm.packState(tf, st.state());
      List<float[]> state = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        state.add(new float[30]);
      }
      expectedState = null;
      try (Session s = new Session(g)) {
        for (int t = 0; t < steps; t++) {
          List<Tensor> owned = new ArrayList<>();
          Session.Runner r = s.runner();
          TFloat32 gt = Tensors.floats(c, 6);
          owned.add(gt);
          r.feed(grad, gt);
          for (int i = 0; i < 4; i++) {
            TFloat32 x = Tensors.floats(state.get(i), 6, 5);
            owned.add(x);
            r.feed(in.get(i), x);
          }
          r.fetch(st.update()).fetch(packed);
          st.state().forEach(r::fetch);
          try (Result res = r.run()) {
            float[] u = Tensors.toArray(res.get(0));
            for (int i = 0; i < 6; i++) {
              expected[i] += u[i];
            }
            expectedState = Tensors.toArray(res.get(1));
            for (int i = 0; i < 4; i++) {
              state.set(i, Tensors.toArray(res.get(2 + i)));
            }
          } finally {
            owned.forEach(Tensor::close);
          }
        }
      }
    }
    assertArrayEquals(expected, trained, 1e-6f);
    assertArrayEquals(expectedState, slotValue, 1e-6f);
    assertFalse(java.util.Arrays.equals(v0, trained), "the variable moved");
  }

  @Test
  void variablesWithoutGradientAreLeftAloneAndTwoOptimizersShareAGraph() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Variable<TFloat32> a = tf.withName("a").variable(tf.constant(new float[] {1f, -1f}));
      Variable<TFloat32> b = tf.withName("b").variable(tf.constant(new float[] {3f}));
      Variable<TFloat32> unused = tf.withName("unused").variable(tf.constant(7f));
      // (Square directly on a variable crashes TensorFlow 1.1.0's C++ gradient: use Mul.)
      Operand<TFloat32> lossA = tf.reduceSum(tf.math.mul(a, a), tf.constant(0));
      Operand<TFloat32> lossB = tf.reduceSum(tf.math.mul(b, b), tf.constant(0));
      LearnedOptimizer first = new LearnedOptimizer(g, optimizer());
      Op stepA = first.minimize(lossA);
      LearnedOptimizer second = new LearnedOptimizer(g, optimizer());
      Op stepB = second.minimize(lossB);
      assertEquals(List.of("a"), List.copyOf(first.stateSlots().keySet()));
      // The second minimize leaves out a, unused and the first optimizer's slot: the loss does
      // not depend on them (the framework's computeGradients would fail on them).
      assertEquals(List.of("b"), List.copyOf(second.stateSlots().keySet()));
      assertEquals("LearnedOptimizer_1/b/lstm_state",
          second.stateSlots().get("b").op().name());
      try (Session s = new Session(g)) {
        s.run(stepA);
        s.run(stepB);
        assertEquals(7f, fetch(s, unused)[0]);
        assertFalse(fetch(s, a)[0] == 1f);
        assertFalse(fetch(s, b)[0] == 3f);
      }
    }
  }

  @Test
  void nonFloat32VariableIsRefusedWithItsName() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Variable<TFloat64> d = tf.withName("double_weights").variable(tf.constant(new double[] {1}));
      Operand<TFloat64> loss = tf.reduceSum(tf.math.mul(d, d), tf.constant(0));
      LearnedOptimizer opt = new LearnedOptimizer(g, optimizer());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> opt.minimize(loss));
      assertTrue(e.getMessage().contains("double_weights"), e.getMessage());
      assertTrue(e.getMessage().contains("float32"), e.getMessage());
    }
  }

  @Test
  void lossWithoutVariablesIsRefused() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      tf.withName("v").variable(tf.constant(1f));
      Operand<TFloat32> loss = tf.withName("constant_loss").constant(3f);
      LearnedOptimizer opt = new LearnedOptimizer(g, optimizer());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> opt.minimize(loss));
      assertTrue(e.getMessage().contains("constant_loss depends on no variable"), e.getMessage());
    }
  }

  @Test
  void scopeNamesAreValid() {
    assertEquals("dense.kernel", LearnedOptimizer.scopeName("dense/kernel"));
    assertEquals("v_x", LearnedOptimizer.scopeName("_x"));
  }
}
