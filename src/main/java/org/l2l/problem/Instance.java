package org.l2l.problem;

/**
 * One sampled problem instance: a concrete function to optimize (its data) and the starting point
 * of its parameters. Instances are plain Java data so that the same seed gives the same instance
 * on every machine, independent of TensorFlow's random kernels.
 */
public interface Instance {

  /** The initial parameters, all parameter tensors flattened and concatenated in spec order. */
  float[] initialTheta();
}
