package org.l2l.rule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import com.google.gson.JsonObject;
import org.l2l.UserError;
import org.l2l.config.Check;
import org.l2l.config.Flag;
import org.l2l.config.Json;
import org.l2l.problem.Random;
import org.l2l.tf.FusedLstm;
import org.l2l.tf.Tensors;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;

/**
 * The learned optimizer m of the paper: a multi-layer LSTM applied to every coordinate
 * separately, with one set of weights phi shared by all coordinates and a separate hidden state
 * per coordinate (paper section 2.1), followed by a linear output of size 1 times an output
 * scale.
 *
 * <p>Each layer computes its four gates with one fused MatMul over [input, h]; the forget-gate
 * bias is added to the forget gate's pre-activation, as Sonnet's LSTM does (default 1.0, and
 * adjustable, which Keras's LSTM classes are not). Weights are initialised as Sonnet does
 * (truncated normal with standard deviation 1/sqrt(fan-in), zero biases) from a Java random
 * stream, so the same seed gives the same initial optimizer everywhere.
 *
 * <p>Two graphs compute the same function. {@link #build} (the unroll, where speed matters)
 * lays the state out as [features, coordinates] with the coordinates padded to a multiple of 16
 * (32 for the step kernel, which pads its state alone: its input and update are unpadded)
 * and the biases and output scale folded into the MatMuls, and computes the cell with stock ops
 * or the fused kernels ({@link Kernel}). {@link #step(Ops, List, Operand, List)}
 * (export and {@code LearnedOptimizer}) keeps one row per coordinate, so the number of
 * coordinates may be unknown when the graph is built. They differ by float rounding only
 * (under 2e-8 on updates of a trained optimizer; see OptimizerExportTest).
 */
public final class CoordinatewiseLstm implements LearnedRule {

  /** The paper's two layers. */
  public static final int LAYERS_DEFAULT = 2;
  /** The paper's 20 hidden units per layer. */
  public static final int HIDDEN_SIZE_DEFAULT = 20;
  /** Sonnet's forget-gate bias, used by the official code. */
  public static final double FORGET_BIAS_DEFAULT = 1.0;
  /** Output scale of the official code's quadratic setting. */
  public static final double OUTPUT_SCALE_DEFAULT = 1.0;

  /** The value of {@link #type()}, in weights files. */
  public static final String TYPE = "coordinatewise-lstm";
  /** The scope (and weight-name prefix) of a run's default learned rule. */
  public static final String SCOPE_DEFAULT = "lstm";

  /**
   * The LSTM's shape and preprocessing: the learned rule's settings, each also a flag. A problem
   * may change their defaults ({@link org.l2l.problem.ProblemType#ruleDefaults()}).
   *
   * @param layers LSTM layers
   * @param hiddenSize units per layer
   * @param forgetBias bias added to the forget gate's pre-activation
   * @param outputScale factor on the LSTM's output
   * @param preprocess gradient preprocessing, a {@link Preprocessing#flags()} name
   * @param preprocessP p of log-and-sign (the official code's k)
   */
  public record Config(
      @Flag(name = "--layers", label = "N", help = "LSTM layers (the paper's 2)") int layers,
      @Flag(name = "--hidden-size", label = "N", help = "LSTM units per layer (the paper's 20)")
      int hiddenSize,
      @Flag(name = "--forget-bias", label = "X",
          help = "bias added to the forget gate, as Sonnet's 1.0") double forgetBias,
      @Flag(name = "--output-scale", label = "X",
          help = "factor on the LSTM's output: the official code 1 on quadratics, 0.01 on MNIST "
              + "(the paper 0.1)") double outputScale,
      @Flag(name = "--preprocess", label = "P",
          help = "gradient preprocessing: none, log-and-sign (official code's form), "
              + "log-and-sign-paper (paper's two branches)") String preprocess,
      @Flag(name = "--preprocess-p", label = "X",
          help = "the p of log-and-sign (the official code's k): the paper 10, the official code 5")
      double preprocessP) {

    /** Validates every setting. */
    public Config {
      Check.positive("--layers", layers);
      Check.positive("--hidden-size", hiddenSize);
      if (!Double.isFinite(forgetBias)) {
        throw UserError.flag("--forget-bias", forgetBias, "must be a finite number");
      }
      Check.positive("--output-scale", outputScale);
      Check.oneOf("--preprocess", preprocess, Preprocessing.flags());
      Check.positive("--preprocess-p", preprocessP);
    }

    /** A configuration with the preprocessing given as its enum. */
    public Config(int layers, int hiddenSize, double forgetBias, double outputScale,
        Preprocessing preprocessing, double preprocessP) {
      this(layers, hiddenSize, forgetBias, outputScale, preprocessing.flag(), preprocessP);
    }

    /** The preprocessing. */
    public Preprocessing preprocessing() {
      return Preprocessing.fromFlag(preprocess);
    }
  }

  /** The rule's own defaults: the paper's LSTM, no preprocessing, output scale 1. */
  public static final Config DEFAULTS = new Config(LAYERS_DEFAULT, HIDDEN_SIZE_DEFAULT,
      FORGET_BIAS_DEFAULT, OUTPUT_SCALE_DEFAULT, Preprocessing.NONE, Preprocessing.P_PAPER);

  /** Coordinates are padded to a multiple of this, so that gate blocks are aligned views. */
  static final long PAD = 16;
  /** The STEP kernel's padding: its products take two 16-float vectors of columns at a time. */
  static final long STEP_PAD = 32;
  /**
   * How {@link #build} computes the cell's elementwise part (gates, c, h): with TensorFlow's
   * stock ops, or with the project's fused kernels ({@link FusedLstm}). The weights, the state
   * and the function are the same; results differ by float rounding.
   */
  public enum Kernel {
    /** TensorFlow's ops: some twenty elementwise passes per cell, forward and backward. */
    STOCK,
    /** {@code L2lLstmCell} and its gradient: one pass each. */
    FUSED,
    /**
     * {@code L2lLstmStep} and its gradient: the whole step (every layer's products and cells and
     * the output) in one op, computed block by block in cache on the kernels' own threads.
     */
    STEP,
    /**
     * TensorFlow's ops, as STOCK, in a session that XLA compiles (the whole unroll; see {@link
     * org.l2l.tf.Xla}): fastest where per-op overhead bounds the step, on small problems.
     */
    XLA;

    /** Whether the unroll's session should be compiled by XLA. */
    public boolean jit() {
      return this == XLA;
    }

    /** The name used in flags and config.json. */
    public String flag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Config config;
  private final Kernel kernel;
  private final String scope;
  private final int threads;
  /** Whether the STEP kernel keeps its gates for a gradient (see {@link #withoutGradient}). */
  private final boolean keepGates;

  /** An LSTM optimizer of the given shape, built with stock ops, in scope {@code lstm}. */
  public CoordinatewiseLstm(Config config) {
    this(config, Kernel.STOCK);
  }

  /** An LSTM optimizer in scope {@code lstm} whose unroll uses {@code kernel}. */
  public CoordinatewiseLstm(Config config, Kernel kernel) {
    this(config, kernel, SCOPE_DEFAULT);
  }

  /**
   * An LSTM optimizer of the given shape whose unroll uses {@code kernel}.
   *
   * @throws IllegalStateException if {@code kernel} is FUSED and the kernels cannot load here
   */
  public CoordinatewiseLstm(Config config, Kernel kernel, String scope) {
    this(config, kernel, scope, 0);
  }

  /**
   * An LSTM optimizer whose unroll uses {@code kernel}, the STEP kernel on {@code threads}
   * threads of its own (0: the processors this process may use). The result does not depend on
   * the thread count.
   *
   * @throws IllegalStateException if {@code kernel} is FUSED or STEP and the kernels cannot load
   */
  public CoordinatewiseLstm(Config config, Kernel kernel, String scope, int threads) {
    this(config, kernel, scope, threads, true);
  }

  private CoordinatewiseLstm(Config config, Kernel kernel, String scope, int threads,
      boolean keepGates) {
    if ((kernel == Kernel.FUSED || kernel == Kernel.STEP) && !FusedLstm.available()) {
      throw new IllegalStateException(FusedLstm.unavailableReason());
    }
    if (!scope.matches("[A-Za-z][A-Za-z0-9_.-]*")) {
      throw new IllegalArgumentException("bad scope " + scope);
    }
    if (threads < 0) {
      throw new IllegalArgumentException("threads " + threads);
    }
    this.config = config;
    this.kernel = kernel;
    this.scope = scope;
    this.threads = threads;
    this.keepGates = keepGates;
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String scope() {
    return scope;
  }

  @Override
  public CoordinatewiseLstm withScope(String newScope) {
    return new CoordinatewiseLstm(config, kernel, newScope, threads, keepGates);
  }

  /** The same optimizer with its STEP kernel on {@code n} threads (0: every processor). */
  public CoordinatewiseLstm withThreads(int n) {
    return new CoordinatewiseLstm(config, kernel, scope, n, keepGates);
  }

  /**
   * The same optimizer for graphs that never take its gradient (evaluation): the STEP kernel then
   * keeps no gates for one (a quarter of a large problem's forward step is writing them; its
   * gradient op fails with a message that says so). The other kernels are unchanged.
   */
  public CoordinatewiseLstm withoutGradient() {
    return new CoordinatewiseLstm(config, kernel, scope, threads, false);
  }

  @Override
  public JsonObject configJson() {
    return Json.tree(config);
  }

  /** How the unroll computes the cell. */
  public Kernel kernel() {
    return kernel;
  }

  /** This optimizer's configuration. */
  @Override
  public Config config() {
    return config;
  }

  @Override
  public String name() {
    return "l2l";
  }

  /**
   * Names of the meta-parameters, in the order of {@link RuleGraph#metaParams()}: under the
   * rule's scope, {@code lstm/layer0/kernel} for the default one.
   */
  @Override
  public List<String> paramNames() {
    List<String> names = new ArrayList<>();
    for (int l = 0; l < config.layers(); l++) {
      names.add(scope + "/layer" + l + "/kernel");
      names.add(scope + "/layer" + l + "/bias");
    }
    names.add(scope + "/output/kernel");
    names.add(scope + "/output/bias");
    return names;
  }

  /** Shapes parallel to {@link #paramNames()}. */
  @Override
  public List<long[]> paramShapes() {
    int h = config.hiddenSize();
    List<long[]> shapes = new ArrayList<>();
    for (int l = 0; l < config.layers(); l++) {
      int in = l == 0 ? config.preprocessing().inputSize() : h;
      shapes.add(new long[] {in + h, 4L * h});
      shapes.add(new long[] {4L * h});
    }
    shapes.add(new long[] {h, 1});
    shapes.add(new long[] {1});
    return shapes;
  }

  /** Initial values of the meta-parameters drawn from {@code rng}, parallel to paramNames. */
  @Override
  public List<float[]> initialValues(SplittableRandom rng) {
    List<float[]> values = new ArrayList<>();
    for (long[] shape : paramShapes()) {
      int size = (int) (shape.length == 2 ? shape[0] * shape[1] : shape[0]);
      float[] v = new float[size];
      if (shape.length == 2) { // kernels; biases stay zero
        double stddev = 1.0 / Math.sqrt(shape[0]);
        for (int i = 0; i < size; i++) {
          v[i] = (float) (stddev * Random.truncatedGaussian(rng));
        }
      }
      values.add(v);
    }
    return values;
  }

  @Override
  public RuleGraph build(Ops tf, long n, SplittableRandom initRng) {
    List<String> names = paramNames();
    List<long[]> shapes = paramShapes();
    List<float[]> init = initialValues(initRng);
    List<Variable<TFloat32>> vars = new ArrayList<>();
    Map<String, Ops> scopes = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      String full = names.get(i);
      int cut = full.lastIndexOf('/');
      Ops scope = scopeOf(tf, full, scopes);
      String leaf = full.substring(cut + 1);
      Operand<TFloat32> value = scope.withName(leaf + "_init")
          .constant(Shape.of(shapes.get(i)), DataBuffers.of(init.get(i), true, false));
      vars.add(scope.withName(leaf).variable(value));
    }
    int h = config.hiddenSize();
    // Layout for speed: features x coordinates ([rows, n]), with n padded to a multiple of
    // PAD so that row blocks (the gates) are aligned views rather than copies; the bias (with
    // the forget bias folded in) is a last row of the kernel, multiplied by a row of ones, and
    // the output scale is folded into the output weights. The weights stay as the .l2lw format
    // describes ([inputs + hidden, 4 hidden], gates i, f, o, g); only the graph differs.
    long pad = kernel == Kernel.STEP ? STEP_PAD : PAD;
    long padded = (n + pad - 1) / pad * pad;
    Ops fused = scopes.get("/" + scope).withSubScope("fused");
    Operand<TFloat32> ones = fused.withName("ones").fill(
        fused.constant(new long[] {1, padded}), fused.constant(1f));
    float[] forget = new float[4 * h];
    for (int j = h; j < 2 * h; j++) {
      forget[j] = (float) config.forgetBias();
    }
    List<Operand<TFloat32>> kernels = new ArrayList<>();
    for (int l = 0; l < config.layers(); l++) {
      Operand<TFloat32> bias = fused.math.add(vars.get(2 * l + 1), fused.constant(forget));
      kernels.add(fused.withName("kernel" + l).concat(List.of(vars.get(2 * l),
          fused.reshape(bias, fused.constant(new long[] {1, 4L * h}))), fused.constant(0)));
    }
    int last = 2 * config.layers();
    Operand<TFloat32> scale = fused.constant((float) config.outputScale());
    Operand<TFloat32> outKernel = fused.withName("output_kernel").math.mul(
        fused.concat(List.of(vars.get(last),
            fused.reshape(vars.get(last + 1), fused.constant(new long[] {1, 1}))),
            fused.constant(0)), scale);
    List<Shape> stateShapes = new ArrayList<>();
    if (kernel == Kernel.STEP) {
      stateShapes.add(Shape.of(2L * config.layers() * h, padded)); // per layer c then h
    } else {
      for (int l = 0; l < config.layers(); l++) {
        stateShapes.add(Shape.of(h, padded)); // cell c
        stateShapes.add(Shape.of(h, padded)); // hidden h
      }
    }
    List<Shape> finalStateShapes = List.copyOf(stateShapes);
    // The STEP kernel's inputs: every weight in one vector, and {layers, threads, vectors, keep
    // gates}.
    Operand<TFloat32> flatWeights = null;
    Operand<TFloat32> dims = null;
    if (kernel == Kernel.STEP) {
      List<Operand<TFloat32>> parts = new ArrayList<>();
      var flat = fused.constant(new long[] {-1});
      for (Operand<TFloat32> k : kernels) {
        parts.add(fused.reshape(k, flat));
      }
      parts.add(fused.reshape(outKernel, flat));
      flatWeights = fused.withName("weights").concat(parts, fused.constant(0));
      // A run that takes no meta-gradient (a validation during training) feeds keep 0: the
      // same results, without writing the gates (see withoutGradient).
      float[] d = {config.layers(), threads, 0, keepGates ? 1 : 0};
      dims = keepGates ? fused.withName("dims").placeholderWithDefault(
          fused.withName("dims_value").constant(d), Shape.of(4))
          : fused.withName("dims").constant(d);
    }
    Operand<TFloat32> stepWeights = flatWeights;
    Operand<TFloat32> stepDims = dims;
    float[] noGates = {config.layers(), threads, 0, 0};
    return new RuleGraph() {
      @Override
      public List<Shape> stateShapes() {
        return finalStateShapes;
      }

      @Override
      public Step step(Ops tf, Operand<TFloat32> grad, List<Operand<TFloat32>> state) {
        // The STEP kernel takes the n coordinates as they are (its state alone is padded); the
        // others pad them, with int32 paddings and slice bounds: the gradients of Pad and Slice
        // mix them with int32 shapes.
        Operand<TFloat32> g = padded == n || kernel == Kernel.STEP ? grad
            : tf.pad(grad, tf.constant(new int[][] {{0, (int) (padded - n)}}), tf.constant(0f));
        Operand<TFloat32> x = config.preprocessing()
            .applyRows(tf.withSubScope("preprocess"), g, config.preprocessP());
        Operand<TFloat32> preprocessed = x; // [inputs, n or padded n], for histograms
        Ops output = tf.withSubScope("output");
        Operand<TFloat32> flat; // the update, [n] (STEP) or [padded n]
        List<Operand<TFloat32>> next = new ArrayList<>();
        if (kernel == Kernel.STEP) {
          List<Operand<TFloat32>> out = FusedLstm.step(tf.withSubScope("lstm_step"), x,
              state.get(0), stepWeights, stepDims);
          flat = out.get(0);
          next.add(out.get(1));
        } else {
          for (int l = 0; l < config.layers(); l++) {
            Ops layer = tf.withSubScope("layer" + l);
            Operand<TFloat32> c = state.get(2 * l);
            Operand<TFloat32> hPrev = state.get(2 * l + 1);
            Operand<TFloat32> z = layer.linalg.matMul(kernels.get(l),
                layer.concat(List.of(x, hPrev, ones), layer.constant(0)),
                MatMul.transposeA(true));
            Operand<TFloat32> cNext;
            Operand<TFloat32> hNext;
            if (kernel == Kernel.FUSED) {
              List<Operand<TFloat32>> cell = FusedLstm.cell(layer, z, c);
              cNext = layer.withName("c").identity(cell.get(0));
              hNext = layer.withName("h").identity(cell.get(1));
            } else {
              List<Output<TFloat32>> parts = layer.splitV(z,
                  layer.constant(new long[] {3L * h, h}), layer.constant(0), 2L).output();
              Operand<TFloat32> sig = layer.math.sigmoid(parts.get(0));
              Operand<TFloat32> candidate = layer.math.tanh(parts.get(1));
              List<Output<TFloat32>> gates = layer.split(layer.constant(0), sig, 3L).output();
              cNext = layer.withName("c").math.add(
                  layer.math.mul(gates.get(1), c), layer.math.mul(gates.get(0), candidate));
              hNext = layer.withName("h").math.mul(gates.get(2), layer.math.tanh(cNext));
            }
            next.add(cNext);
            next.add(hNext);
            x = hNext;
          }
          Operand<TFloat32> y = output.linalg.matMul(outKernel,
              output.concat(List.of(x, ones), output.constant(0)), MatMul.transposeA(true));
          flat = output.reshape(y, output.constant(new long[] {padded}));
        }
        // StridedSlice, not Slice: its gradient is one StridedSliceGrad (with a Shape), where
        // Slice's builds the padding at run time in nine ops, per step.
        Operand<TFloat32> update = padded == n || kernel == Kernel.STEP
            ? output.withName("update").identity(flat)
            : output.withName("update").stridedSlice(flat, output.constant(new int[] {0}),
                output.constant(new int[] {(int) n}), output.constant(new int[] {1}));
        return new Step(update, next, preprocessed);
      }

      @Override
      public void feedWithoutGradient(Session.Runner runner, List<Tensor> owned) {
        if (keepGates && kernel == Kernel.STEP) {
          TFloat32 t = Tensors.floats(noGates, noGates.length);
          owned.add(t);
          runner.feed(stepDims, t);
        }
      }

      @Override
      public List<Variable<TFloat32>> metaParams() {
        return vars;
      }

      @Override
      public List<String> metaParamNames() {
        return names;
      }
    };
  }

  /**
   * The weights phi as graph constants named as {@link #paramNames()} (under {@code tf}'s scope),
   * for graphs that run a trained optimizer without training it (export, {@code
   * LearnedOptimizer}).
   *
   * <p>Each constant ({@code <name>_value}) is passed through a PlaceholderWithDefault named
   * {@code <name>}: graph optimizers treat it like a variable, so the step computes exactly what
   * it computes on variables. On plain constants oneDNN's MatMul (on by default on x86) rounded
   * differently from the same MatMul on variables (up to 2e-8 in the update, 4e-7 in the state
   * for a trained optimizer).
   *
   * @param values the weights in {@link #paramNames()} order, each of its {@link #paramShapes()}
   */
  @Override
  public List<Operand<TFloat32>> constants(Ops tf, List<float[]> values) {
    List<String> names = paramNames();
    List<long[]> shapes = paramShapes();
    if (values.size() != names.size()) {
      throw new IllegalArgumentException("expected " + names.size() + " tensors, got "
          + values.size());
    }
    List<Operand<TFloat32>> constants = new ArrayList<>();
    Map<String, Ops> scopes = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      String full = names.get(i);
      long size = Shape.of(shapes.get(i)).size();
      if (values.get(i).length != size) {
        throw new IllegalArgumentException(full + " needs " + size + " values, got "
            + values.get(i).length);
      }
      Ops scope = scopeOf(tf, full, scopes);
      String leaf = full.substring(full.lastIndexOf('/') + 1);
      Operand<TFloat32> value = scope.withName(leaf + "_value")
          .constant(Shape.of(shapes.get(i)), DataBuffers.of(values.get(i), true, false));
      constants.add(scope.withName(leaf).placeholderWithDefault(value, value.shape()));
    }
    return constants;
  }

  /**
   * The scope of a weight's name ("lstm/layer0" for "lstm/layer0/kernel"), made once per path:
   * each withSubScope call makes a new, uniquely numbered scope ("lstm_1").
   */
  private static Ops scopeOf(Ops tf, String fullName, Map<String, Ops> made) {
    Ops scope = tf;
    String path = "";
    for (String part : fullName.substring(0, fullName.lastIndexOf('/')).split("/")) {
      path = path + "/" + part;
      Ops parent = scope;
      scope = made.computeIfAbsent(path, k -> parent.withSubScope(part));
    }
    return scope;
  }

  /**
   * One step of the LSTM optimizer with the given weights (variables or constants, in {@link
   * #paramNames()} order): {@code grad} [n] and {@code state} (per layer c and h, each [n,
   * hidden]) in, the update [n] and the next state out. The number of coordinates n may be
   * unknown when the graph is built (every op works row by row).
   */
  @Override
  public RuleGraph.Step step(Ops tf, List<? extends Operand<TFloat32>> weights,
      Operand<TFloat32> grad, List<Operand<TFloat32>> state) {
    if (weights.size() != 2 * config.layers() + 2 || state.size() != 2 * config.layers()) {
      throw new IllegalArgumentException("expected " + (2 * config.layers() + 2)
          + " weights and " + 2 * config.layers() + " state tensors, got " + weights.size()
          + " and " + state.size());
    }
    Operand<TFloat32> x = config.preprocessing()
        .apply(tf.withSubScope("preprocess"), grad, config.preprocessP());
    Operand<TFloat32> preprocessed = x;
    List<Operand<TFloat32>> next = new ArrayList<>();
    for (int l = 0; l < config.layers(); l++) {
      Ops layer = tf.withSubScope("layer" + l);
      Operand<TFloat32> c = state.get(2 * l);
      Operand<TFloat32> hPrev = state.get(2 * l + 1);
      Operand<TFloat32> z = layer.math.add(
          layer.linalg.matMul(layer.concat(List.of(x, hPrev), layer.constant(1)),
              weights.get(2 * l)),
          weights.get(2 * l + 1));
      List<Operand<TFloat32>> gates = layer.split(layer.constant(1), z, 4L).output().stream()
          .map(o -> (Operand<TFloat32>) o).toList();
      Operand<TFloat32> in = layer.math.sigmoid(gates.get(0));
      Operand<TFloat32> forget = layer.math.sigmoid(
          layer.math.add(gates.get(1), layer.constant((float) config.forgetBias())));
      Operand<TFloat32> out = layer.math.sigmoid(gates.get(2));
      Operand<TFloat32> candidate = layer.math.tanh(gates.get(3));
      Operand<TFloat32> cNext = layer.withName("c").math.add(
          layer.math.mul(forget, c), layer.math.mul(in, candidate));
      Operand<TFloat32> hNext =
          layer.withName("h").math.mul(out, layer.math.tanh(cNext));
      next.add(cNext);
      next.add(hNext);
      x = hNext;
    }
    Ops output = tf.withSubScope("output");
    int last = 2 * config.layers();
    Operand<TFloat32> y = output.math.add(output.linalg.matMul(x, weights.get(last)),
        weights.get(last + 1));
    Operand<TFloat32> update = output.withName("update").math.mul(
        output.reshape(y, output.constant(new long[] {-1})),
        output.constant((float) config.outputScale()));
    return new RuleGraph.Step(update, next, preprocessed);
  }

  /**
   * Width of the packed state: per coordinate, the layers' c and h side by side, {@code 2 *
   * layers * hidden} floats (the layout of {@link #packState} and of the exported SavedModel).
   */
  @Override
  public int packedStateWidth() {
    return 2 * config.layers() * config.hiddenSize();
  }

  /**
   * The state as one [n, {@link #packedStateWidth()}] tensor: row i holds coordinate i's
   * {@code c_0, h_0, c_1, h_1, ...}, each {@code hidden} wide.
   */
  @Override
  public Operand<TFloat32> packState(Ops tf, List<Operand<TFloat32>> state) {
    return tf.concat(state, tf.constant(1));
  }

  /** The inverse of {@link #packState}: per layer c and h, each [n, hidden]. */
  @Override
  public List<Operand<TFloat32>> unpackState(Ops tf, Operand<TFloat32> packed) {
    return tf.split(tf.constant(1), packed, 2L * config.layers()).output().stream()
        .map(o -> (Operand<TFloat32>) o).toList();
  }
}
