package org.l2l.meta;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * The meta-optimizer: Adam on the LSTM's variables only, built from plain ops so that it is
 * deterministic. (The framework's Adam in TensorFlow Java 1.1.0 updates its beta powers beside,
 * not after, ApplyAdam, so identical runs diverge.) Every new value is computed from the step
 * counter's new value {@code t + 1}, never from a variable that another op of the same run
 * assigns.
 *
 * <p>Update: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * phi -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps).
 */
public final class MetaAdam implements MetaOptimizer {

  /** The official code's meta learning rate. */
  public static final double LEARNING_RATE_DEFAULT = TrainConfig.META_LEARNING_RATE_DEFAULT;
  /** Adam's usual beta1. */
  public static final double BETA1 = 0.9;
  /** Adam's usual beta2. */
  public static final double BETA2 = 0.999;
  /** Adam's usual epsilon. */
  public static final double EPSILON = 1e-8;

  private final double learningRate;

  /** The slot variables, for checkpoints: m and v of every parameter, then the step counter. */
  private final List<Variable<TFloat32>> slots = new ArrayList<>();
  private final List<String> slotNames = new ArrayList<>();

  /** An Adam meta-optimizer with the given learning rate. */
  public MetaAdam(double learningRate) {
    this.learningRate = learningRate;
  }

  /** The slot variables created by {@link #apply} (m and v per parameter, then t). */
  @Override
  public List<Variable<TFloat32>> slots() {
    return slots;
  }

  /** Names parallel to {@link #slots()}. */
  @Override
  public List<String> slotNames() {
    return slotNames;
  }

  /**
   * Builds the update of {@code params} by {@code grads}; the returned op runs all assignments.
   *
   * @param names the parameters' names, used to name the slots
   */
  public Op apply(Ops tf, List<Operand<TFloat32>> grads, List<Variable<TFloat32>> params,
      List<String> names) {
    return apply(tf, grads, params, names, null);
  }

  /**
   * As {@link #apply(Ops, List, List, List)}, but only where {@code ok} is true: otherwise every
   * parameter, moment and the step counter keep their values (the assignments write back what
   * they read), so a bad meta-step leaves no trace. {@code ok} null applies always.
   */
  @Override
  public Op apply(Ops tf, List<Operand<TFloat32>> grads, List<Variable<TFloat32>> params,
      List<String> names, Operand<TBool> ok) {
    Ops slotScope = tf.withSubScope("slots");
    // A second call builds another update of the same parameters on the same slots (the
    // meta-step of an averaged meta-gradient, Unroll.applyMetaGradient).
    boolean shared = !slots.isEmpty();
    Variable<TFloat32> t = shared ? slots.get(slots.size() - 1)
        : slotScope.withName("t").variable(tf.constant(0f));
    Operand<TFloat32> tNext = tf.math.add(t, tf.constant(1f));
    // The step size uses t + 1 whether or not the step is taken; only the assignments choose.
    Operand<TFloat32> one = tf.constant(1f);
    Operand<TFloat32> stepSize = tf.withName("step_size").math.div(
        tf.math.mul(tf.constant((float) learningRate),
            tf.math.sqrt(tf.math.sub(one, tf.math.pow(tf.constant((float) BETA2), tNext)))),
        tf.math.sub(one, tf.math.pow(tf.constant((float) BETA1), tNext)));
    // Every assignment waits for every gradient: a gradient op of one parameter may read another
    // parameter (MatMul's input gradient reads the kernel), and must see it before its update.
    List<Op> computed = new ArrayList<>();
    List<Operand<TFloat32>> ready = new ArrayList<>();
    for (Operand<TFloat32> g : grads) {
      var id = tf.identity(g);
      computed.add(id);
      ready.add(id);
    }
    Ops after = tf.withControlDependencies(computed);
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      Variable<TFloat32> p = params.get(i);
      Operand<TFloat32> g = ready.get(i);
      String slot = names.get(i).replace('/', '_');
      Variable<TFloat32> m;
      Variable<TFloat32> v;
      if (shared) {
        m = slots.get(2 * i);
        v = slots.get(2 * i + 1);
      } else {
        // Zeros of the parameter's static shape: ZerosLike(p) would read p before it is
        // initialised.
        Operand<TFloat32> zeros = slotScope.zeros(slotScope.constant(p.shape().asArray()),
            TFloat32.class);
        m = slotScope.withName(slot + "_m").variable(zeros);
        v = slotScope.withName(slot + "_v").variable(zeros);
        slots.add(m);
        slotNames.add(slot + "_m");
        slots.add(v);
        slotNames.add(slot + "_v");
      }
      Operand<TFloat32> mNext = tf.math.add(tf.math.mul(tf.constant((float) BETA1), m),
          tf.math.mul(tf.constant((float) (1 - BETA1)), g));
      Operand<TFloat32> vNext = tf.math.add(tf.math.mul(tf.constant((float) BETA2), v),
          tf.math.mul(tf.constant((float) (1 - BETA2)), tf.math.square(g)));
      Operand<TFloat32> delta = tf.math.mul(stepSize,
          tf.math.div(mNext, tf.math.add(tf.math.sqrt(vNext), tf.constant((float) EPSILON))));
      assigns.add(after.assign(m, choose(tf, ok, mNext, m)));
      assigns.add(after.assign(v, choose(tf, ok, vNext, v)));
      assigns.add(after.assign(p, choose(tf, ok, tf.math.sub(p, delta), p)));
    }
    if (!shared) {
      slots.add(t);
      slotNames.add("t");
    }
    // The counter moves last, after every read of it has been used.
    Op tAssign = tf.withControlDependencies(assigns).assign(t, choose(tf, ok, tNext, t));
    return tf.withControlDependencies(List.of(tAssign)).withName("apply").noOp();
  }

  /** {@code next} where {@code ok} (or always, if null), else {@code current}. */
  private static Operand<TFloat32> choose(Ops tf, Operand<TBool> ok, Operand<TFloat32> next,
      Operand<TFloat32> current) {
    return ok == null ? next : tf.select(ok, next, current);
  }
}
