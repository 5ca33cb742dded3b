package org.l2l.tf;

import org.tensorflow.internal.c_api.global.tensorflow;

/**
 * XLA's just-in-time compiler for the CPU, for sessions that ask for it (global JIT level ON_2 in
 * their {@code ConfigProto}). TensorFlow compiles such a session's graph into a few fused
 * kernels: on small problems, where per-op overhead bounds the meta-step, that is several times
 * faster. Custom ops (the fused LSTM kernels) cannot be compiled, so XLA goes with stock ops.
 *
 * <p>{@link #enable()} turns on CPU compilation process-wide (TensorFlow's {@code
 * tf_xla_cpu_global_jit}, through the C API), and loads the project's native library first: its
 * constructor sets {@code XLA_FLAGS=--xla_cpu_use_thunk_runtime=false} when the variable is not
 * set, as XLA reads it once, at its first compilation (the older code path of XLA's CPU backend
 * ran a one-quadratic meta-step in about half the time of the newer one here). Sessions that do
 * not ask for JIT are unaffected.
 */
public final class Xla {

  private static boolean enabled;

  private Xla() {}

  /** Enables XLA compilation for sessions configured for it; idempotent. */
  public static synchronized void enable() {
    if (!enabled) {
      FusedLstm.available(); // sets XLA_FLAGS, where the library loads, before XLA reads it
      tensorflow.TF_SetTfXlaCpuGlobalJit((byte) 1);
      enabled = true;
    }
  }
}
