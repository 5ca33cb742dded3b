package org.l2l.rule;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/** The graph side of an {@link UpdateRule}, built once per graph. */
public interface RuleGraph {

  /**
   * Result of one step: the update g_t (theta_{t+1} = theta_t + g_t), the next state, and the
   * rule's input after preprocessing (null for rules that do not preprocess), for histograms.
   */
  record Step(Operand<TFloat32> update, List<Operand<TFloat32>> state,
      Operand<TFloat32> preprocessed) {
    /** A step without a preprocessed input. */
    public Step(Operand<TFloat32> update, List<Operand<TFloat32>> state) {
      this(update, state, null);
    }
  }

  /** Shapes of the rule's state tensors; every state starts at zero. */
  List<Shape> stateShapes();

  /**
   * One update. {@code grad} has shape [n]; {@code state} holds one operand per
   * {@link #stateShapes()} entry.
   */
  Step step(Ops tf, Operand<TFloat32> grad, List<Operand<TFloat32>> state);

  /**
   * Feeds what makes a run that takes no meta-gradient skip the work only a gradient needs (the
   * step kernel's saved gates), with the same results; nothing for most rules.
   *
   * @param owned tensors fed here, for the caller to close after the run
   */
  default void feedWithoutGradient(Session.Runner runner, List<Tensor> owned) {}

  /** The meta-parameters phi the meta-optimizer trains (empty for hand-designed rules). */
  default List<Variable<TFloat32>> metaParams() {
    return List.of();
  }

  /** Names of the meta-parameters, parallel to {@link #metaParams()}, for saving. */
  default List<String> metaParamNames() {
    return List.of();
  }

  /**
   * The learning-rate input (a scalar placeholder with the rule's learning rate as default),
   * fed to tune baselines without rebuilding the graph; null for rules without one.
   */
  default Operand<TFloat32> learningRate() {
    return null;
  }
}
