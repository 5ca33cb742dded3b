package org.l2l.rule;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * An update rule with meta-parameters phi that meta-training learns: what checkpoints, weights
 * files, export, {@code LearnedOptimizer} and the commands need to know of it, so that they do
 * not depend on one rule's class. {@link CoordinatewiseLstm} is the paper's; {@link
 * LearnedRules#create} makes a rule from its {@link #type()} and {@link #configJson()}.
 *
 * <p>Two graphs run a learned rule: {@link #build} (the unroll, phi in variables) and {@link
 * #step} on {@link #constants} (export and {@code LearnedOptimizer}, phi fixed, the number of
 * coordinates unknown when the graph is built). Both compute the same function.
 */
public interface LearnedRule extends UpdateRule {

  /** The rule's kind in weights files, e.g. {@code coordinatewise-lstm}. */
  String type();

  /** The rule's settings as a record (written to config.json and weights files). */
  Record config();

  /** {@link #config()} as JSON. */
  JsonObject configJson();

  /**
   * The scope of the rule's weights in the graph and the prefix of their names in weights
   * files: {@code lstm} for a run's default rule, {@code lstm_NAME} for a named one.
   */
  String scope();

  /** The same rule under another scope. */
  LearnedRule withScope(String scope);

  @Override
  default String name() {
    return "l2l";
  }

  /** Names of the meta-parameters (scope included), in the order of the rule graph's. */
  List<String> paramNames();

  /** Shapes parallel to {@link #paramNames()}. */
  List<long[]> paramShapes();

  /** Initial meta-parameters drawn from {@code rng}, parallel to {@link #paramNames()}. */
  List<float[]> initialValues(SplittableRandom rng);

  /** Trained weights as graph constants for {@link #step}, named as {@link #paramNames()}. */
  List<Operand<TFloat32>> constants(Ops tf, List<float[]> values);

  /**
   * One step with the given weights: the gradient [n] and state in, the update [n] and next
   * state out; n may be unknown when the graph is built.
   */
  RuleGraph.Step step(Ops tf, List<? extends Operand<TFloat32>> weights, Operand<TFloat32> grad,
      List<Operand<TFloat32>> state);

  /** Width of the packed state: one row of this many floats per coordinate. */
  int packedStateWidth();

  /** The state of {@link #step} as one [n, {@link #packedStateWidth()}] tensor. */
  Operand<TFloat32> packState(Ops tf, List<Operand<TFloat32>> state);

  /** The inverse of {@link #packState}. */
  List<Operand<TFloat32>> unpackState(Ops tf, Operand<TFloat32> packed);
}
