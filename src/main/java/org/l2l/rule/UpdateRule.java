package org.l2l.rule;

import java.util.SplittableRandom;
import org.tensorflow.op.Ops;

/**
 * An optimizer written as a graph-building rule: gradient and state in, update and next state
 * out, applied coordinatewise to a flat vector of n coordinates. The learned LSTM optimizer and
 * the hand-designed baselines share this interface, so that training and every comparison run
 * the same unroll code.
 *
 * <p>Order of calls: {@link #build} once per graph (it creates the rule's meta-parameters and
 * learning-rate input), then {@link RuleGraph#step} once per unroll step.
 */
public interface UpdateRule {

  /** The rule's name as given on the command line ({@code l2l} for the learned optimizer). */
  String name();

  /**
   * Adds the rule's graph-level parts (meta-parameters, learning-rate input) for {@code n}
   * coordinates. {@code initRng} gives the initial values of meta-parameters, if any.
   */
  RuleGraph build(Ops tf, long n, SplittableRandom initRng);
}
