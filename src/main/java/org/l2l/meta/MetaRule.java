package org.l2l.meta;

import java.util.ArrayList;
import java.util.List;
import org.l2l.rule.Nag;
import org.l2l.rule.RmsProp;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * The meta-optimizers other than Adam ({@link MetaAdam}), in the Torch7 forms of the baselines
 * ({@link org.l2l.rule.Sgd}, {@link RmsProp}, {@link Nag}), built like MetaAdam: plain ops, every
 * assignment after every gradient, a guard that writes back the old values, the step counter t
 * moved last.
 *
 * <ul>
 *   <li>sgd: phi -= lr g
 *   <li>rmsprop: ms = a ms + (1 - a) g^2; phi -= lr g / (sqrt(ms) + eps), a = 0.99, eps = 1e-8
 *   <li>nag: v = mu v + g; phi -= lr (g + mu v), mu = 0.9
 * </ul>
 */
public final class MetaRule implements MetaOptimizer {

  /** Which rule. */
  public enum Kind {
    SGD(null), RMSPROP("ms"), NAG("momentum");

    /** The name of the one slot per parameter, or null for none. */
    final String slot;

    Kind(String slot) {
      this.slot = slot;
    }
  }

  /** RMSprop's decay (Torch7's default, as the baseline). */
  public static final double RMSPROP_DECAY = RmsProp.DECAY_DEFAULT;
  /** RMSprop's epsilon (as the baseline). */
  public static final double RMSPROP_EPSILON = RmsProp.EPSILON_DEFAULT;
  /** NAG's momentum (as the baseline). */
  public static final double NAG_MOMENTUM = Nag.MOMENTUM_DEFAULT;

  private final Kind kind;
  private final double learningRate;
  private final List<Variable<TFloat32>> slots = new ArrayList<>();
  private final List<String> slotNames = new ArrayList<>();

  /** The meta-optimizer {@code kind} with the given learning rate. */
  public MetaRule(Kind kind, double learningRate) {
    this.kind = kind;
    this.learningRate = learningRate;
  }

  @Override
  public List<Variable<TFloat32>> slots() {
    return slots;
  }

  @Override
  public List<String> slotNames() {
    return slotNames;
  }

  @Override
  public Op apply(Ops tf, List<Operand<TFloat32>> grads, List<Variable<TFloat32>> params,
      List<String> names, Operand<TBool> ok) {
    Ops slotScope = tf.withSubScope("slots");
    // A second call builds another update of the same parameters on the same slots (the
    // meta-step of an averaged meta-gradient, Unroll.applyMetaGradient), as MetaAdam's.
    boolean shared = !slots.isEmpty();
    Variable<TFloat32> t = shared ? slots.get(slots.size() - 1)
        : slotScope.withName("t").variable(tf.constant(0f));
    Operand<TFloat32> lr = tf.constant((float) learningRate);
    // Every assignment waits for every gradient (see MetaAdam).
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
      Operand<TFloat32> delta;
      if (kind.slot == null) {
        delta = tf.math.mul(lr, g);
      } else {
        Variable<TFloat32> s;
        if (shared) {
          s = slots.get(i);
        } else {
          String name = names.get(i).replace('/', '_') + "_" + kind.slot;
          Operand<TFloat32> zeros = slotScope.zeros(slotScope.constant(p.shape().asArray()),
              TFloat32.class);
          s = slotScope.withName(name).variable(zeros);
          slots.add(s);
          slotNames.add(name);
        }
        Operand<TFloat32> sNext;
        if (kind == Kind.RMSPROP) {
          sNext = tf.math.add(tf.math.mul(tf.constant((float) RMSPROP_DECAY), s),
              tf.math.mul(tf.constant((float) (1 - RMSPROP_DECAY)), tf.math.square(g)));
          delta = tf.math.div(tf.math.mul(lr, g),
              tf.math.add(tf.math.sqrt(sNext), tf.constant((float) RMSPROP_EPSILON)));
        } else {
          Operand<TFloat32> mu = tf.constant((float) NAG_MOMENTUM);
          sNext = tf.math.add(tf.math.mul(mu, s), g);
          delta = tf.math.mul(lr, tf.math.add(g, tf.math.mul(mu, sNext)));
        }
        assigns.add(after.assign(s, choose(tf, ok, sNext, s)));
      }
      assigns.add(after.assign(p, choose(tf, ok, tf.math.sub(p, delta), p)));
    }
    if (!shared) {
      slots.add(t);
      slotNames.add("t");
    }
    Operand<TFloat32> tNext = tf.math.add(t, tf.constant(1f));
    Op tAssign = tf.withControlDependencies(assigns).assign(t, choose(tf, ok, tNext, t));
    return tf.withControlDependencies(List.of(tAssign)).withName("apply").noOp();
  }

  private static Operand<TFloat32> choose(Ops tf, Operand<TBool> ok, Operand<TFloat32> next,
      Operand<TFloat32> current) {
    return ok == null ? next : tf.select(ok, next, current);
  }
}
