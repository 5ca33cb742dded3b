package org.l2l.meta;

import java.util.List;
import org.l2l.config.Check;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * The meta-optimizer that updates the learned rules' weights phi after every unroll
 * ({@code train --meta-optimizer}). Every one is built from plain graph ops, deterministic, with
 * a guarded apply (a refused step leaves phi and every slot unchanged) and a step counter as its
 * last slot; its slots are variables of the unroll's graph, so checkpoints hold them.
 */
public interface MetaOptimizer {

  /** The names accepted by {@code --meta-optimizer}; the first is the default. */
  List<String> NAMES = List.of("adam", "sgd", "rmsprop", "nag");

  /** The default, the paper's and the official code's. */
  String DEFAULT = "adam";

  /**
   * Builds the update of {@code params} by {@code grads}, applied only where {@code ok} is true
   * (null: always); the returned op runs every assignment.
   *
   * @param names the parameters' names, used to name the slots
   */
  Op apply(Ops tf, List<Operand<TFloat32>> grads, List<Variable<TFloat32>> params,
      List<String> names, Operand<TBool> ok);

  /** The slot variables created by {@link #apply}: per parameter its slots, then the counter t. */
  List<Variable<TFloat32>> slots();

  /** Names parallel to {@link #slots()}. */
  List<String> slotNames();

  /** The meta-optimizer {@code name} ({@link #NAMES}) with learning rate {@code learningRate}. */
  static MetaOptimizer create(String name, double learningRate) {
    Check.oneOf("--meta-optimizer", name, NAMES);
    return switch (name) {
      case "adam" -> new MetaAdam(learningRate);
      case "sgd" -> new MetaRule(MetaRule.Kind.SGD, learningRate);
      case "rmsprop" -> new MetaRule(MetaRule.Kind.RMSPROP, learningRate);
      case "nag" -> new MetaRule(MetaRule.Kind.NAG, learningRate);
      default -> throw new IllegalStateException(name);
    };
  }
}
