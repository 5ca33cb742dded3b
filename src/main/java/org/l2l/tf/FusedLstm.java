package org.l2l.tf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The fused LSTM cell: TensorFlow ops {@code L2lLstmCell} and {@code L2lLstmCellGrad} from the
 * project's small C library ({@code src/main/c/l2l_lstm.c}, built by Maven with gcc on Linux
 * x86-64 and packed into the jar), with the gradient of the first registered as the second.
 *
 * <p>In the [features, coordinates] layout of the unroll, a cell takes the gate
 * pre-activations z [4H, N] (rows i, f, o, g) and the cell state c [H, N] and returns the next
 * c and h, each [H, N]: the elementwise part of the LSTM in one pass forward and one backward,
 * where stock ops take some twenty. Where the library is not there (another platform, no
 * compiler at build time), {@link #available()} is false and the LSTM uses stock ops.
 */
public final class FusedLstm {

  /** Classpath location of the library for this platform. */
  static final String RESOURCE = "/native/linux-x86_64/libl2l_lstm.so";

  private static Boolean loaded;
  private static String problem;

  private FusedLstm() {}

  /** Loads the library and registers the gradient, once; false if it cannot be loaded here. */
  public static synchronized boolean available() {
    if (loaded == null) {
      loaded = load();
    }
    return loaded;
  }

  /** Why {@link #available()} is false (null when it is true or not yet asked). */
  public static synchronized String unavailableReason() {
    return problem;
  }

  private static boolean load() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      problem = "the fused kernels are built for Linux x86-64 only (this is " + os + " " + arch
          + ")";
      return false;
    }
    try (InputStream in = FusedLstm.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        problem = "the jar has no " + RESOURCE + " (gcc was not found when it was built)";
        return false;
      }
      Path file = Files.createTempFile("l2l_lstm", ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      TensorFlow.loadLibrary(file.toString());
    } catch (IOException | RuntimeException e) {
      problem = "the fused kernels could not be loaded: " + e.getMessage();
      return false;
    }
    TensorFlow.registerCustomGradient("L2lLstmCell", (tf, op, grads) -> {
      Operand<TFloat32> act = f(op.output(2));
      Operand<TFloat32> c = f(op.input(1));
      Operand<TFloat32> dc = grads.get(0) == null ? tf.zerosLike(f(op.output(0)))
          : f(grads.get(0));
      Operand<TFloat32> dh = grads.get(1) == null ? tf.zerosLike(f(op.output(1)))
          : f(grads.get(1));
      return List.<Operand<?>>copyOf(cellGrad(tf, act, c, dc, dh));
    });
    TensorFlow.registerCustomGradient("L2lLstmStep", (tf, op, grads) -> {
      Operand<TFloat32> dy = grads.get(0) == null ? tf.zerosLike(f(op.output(0)))
          : f(grads.get(0));
      Operand<TFloat32> dstate = grads.get(1) == null ? tf.zerosLike(f(op.output(1)))
          : f(grads.get(1));
      Operation grad = tf.scope().opBuilder("L2lLstmStepGrad", "step_grad")
          .addInput(op.input(0)).addInput(op.input(1)).addInput(op.input(2))
          .addInput(op.input(3)).addInput(op.output(1)).addInput(op.output(2))
          .addInput(dy.asOutput()).addInput(dstate.asOutput()).build();
      return List.of(grad.output(0), grad.output(1), grad.output(2),
          tf.zerosLike(f(op.input(3))));
    });
    return true;
  }

  /**
   * One cell: {@code z} [4H, N] and {@code c} [H, N] to the next c and h, and the activations
   * [5H, N] that its gradient reads (in that order).
   *
   * @throws IllegalStateException if the library is not available
   */
  public static List<Operand<TFloat32>> cell(Ops tf, Operand<TFloat32> z, Operand<TFloat32> c) {
    if (!available()) {
      throw new IllegalStateException(unavailableReason());
    }
    Operation op = tf.scope().opBuilder("L2lLstmCell", "cell").addInput(z.asOutput())
        .addInput(c.asOutput()).build();
    return List.of(f(op.output(0)), f(op.output(1)), f(op.output(2)));
  }

  /**
   * One whole step of an L-layer LSTM and its linear output ({@code L2lLstmStep}): {@code x}
   * [F, N] (the preprocessed gradients of N coordinates), {@code state} [2 L H, P] (per layer c
   * then h; P, a multiple of 32, at least N: the columns past N are padding, computed from zero
   * inputs and read back into nothing), {@code weights} [W] (per layer the kernel with its bias as a last row, [(I + H +
   * 1), 4H] row by row, then the output weights [H + 1]) and {@code dims} [3] = {L, threads,
   * vectors} or [4] = {L, threads, vectors, keep} (threads 0: every processor this process may
   * use; vectors 0: the widest vectors this CPU has, 8: 8-float vectors, to test that build on
   * any machine; keep 0: no gradient will be taken) to the output y [N] and the next state
   * [2 L H, P] (and, third, each layer's gate activations i, f, o, g, [4 L H, P], kept for the
   * gradient, which recomputes tanh(c) from the next state; [4 L H, 0] with keep 0). Its
   * gradient ({@code L2lLstmStepGrad}) returns the gradients of x, state and weights. The state
   * tensors (and their gradients) hold their [2 L H,
   * P] elements in the op's own order, block by block ({@link #stepStateOrder}): a state that
   * starts as zeros and is read by these ops alone, as in the unroll, needs no conversion.
   *
   * @throws IllegalStateException if the library is not available
   */
  public static List<Operand<TFloat32>> step(Ops tf, Operand<TFloat32> x,
      Operand<TFloat32> state, Operand<TFloat32> weights, Operand<TFloat32> dims) {
    if (!available()) {
      throw new IllegalStateException(unavailableReason());
    }
    Operation op = tf.scope().opBuilder("L2lLstmStep", "step").addInput(x.asOutput())
        .addInput(state.asOutput()).addInput(weights.asOutput()).addInput(dims.asOutput())
        .build();
    return List.of(f(op.output(0)), f(op.output(1)), f(op.output(2)));
  }

  /** Columns per block of the step ops' state order (BLOCK in l2l_lstm.c). */
  public static final int STEP_BLOCK = 128;

  /**
   * A [rows, columns] matrix (row by row) in the step ops' state order: the columns in blocks of
   * {@link #STEP_BLOCK} (the last one narrower if columns is not a multiple), each block's rows
   * one after another, so that the ops read and write a block's state as one stream in memory.
   * Element (r, j) of the block of width B that starts at column j0 sits at rows j0 + r B + j -
   * j0.
   */
  public static float[] stepStateOrder(float[] rowMajor, int rows, int columns) {
    float[] out = new float[rowMajor.length];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < columns; j++) {
        out[stepStateIndex(rows, columns, r, j)] = rowMajor[r * columns + j];
      }
    }
    return out;
  }

  /** The inverse of {@link #stepStateOrder}: back to row by row. */
  public static float[] rowMajorOrder(float[] stepOrder, int rows, int columns) {
    float[] out = new float[stepOrder.length];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < columns; j++) {
        out[r * columns + j] = stepOrder[stepStateIndex(rows, columns, r, j)];
      }
    }
    return out;
  }

  private static int stepStateIndex(int rows, int columns, int r, int j) {
    int j0 = j / STEP_BLOCK * STEP_BLOCK;
    int width = Math.min(STEP_BLOCK, columns - j0);
    return j0 * rows + r * width + (j - j0);
  }

  /** The gradient op {@code L2lLstmCellGrad} from the cell's saved activations: dz and dc. */
  public static List<Operand<TFloat32>> cellGrad(Ops tf, Operand<TFloat32> act,
      Operand<TFloat32> c, Operand<TFloat32> dcNext, Operand<TFloat32> dh) {
    if (!available()) {
      throw new IllegalStateException(unavailableReason());
    }
    Operation op = tf.scope().opBuilder("L2lLstmCellGrad", "cell_grad").addInput(act.asOutput())
        .addInput(c.asOutput()).addInput(dcNext.asOutput()).addInput(dh.asOutput()).build();
    return List.of(f(op.output(0)), f(op.output(1)));
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> f(Operand<?> o) {
    return (Operand<TFloat32>) o;
  }
}
