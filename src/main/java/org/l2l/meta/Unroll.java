package org.l2l.meta;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.l2l.problem.Instance;
import org.l2l.problem.ParamSpec;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemGraph;
import org.l2l.io.OptimizerFile;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.LearnedRule;
import org.l2l.rule.RuleGraph;
import org.l2l.rule.RuleMap;
import org.l2l.rule.UpdateRule;
import org.l2l.tf.SecondOrderGradients;
import org.l2l.tf.Tensors;
import org.l2l.tf.Xla;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * The unrolled optimization of the paper's Figure 2, built once as a static graph of
 * {@code unrollLength} steps, and the session that runs it. This is the only place where optimizee
 * gradients are taken.
 *
 * <p>Per step t: f_t = f(theta_t); grad_t = d f_t / d theta_t, with StopGradient unless second
 * derivatives are on; [g_t, h_{t+1}] = m(grad_t, h_t; phi); theta_{t+1} = theta_t + g_t. The
 * meta-loss is sum_{t=1..T} f(theta_t) (the paper; {@code includeInitialLoss} adds f(theta_0) as
 * the official code does, which changes the value but not the gradient).
 *
 * <p>Truncated backpropagation through time: theta and the rule's state live in non-trainable
 * variables. Each run of an unroll reads them, and afterwards writes back theta_T and h_T, so that
 * consecutive unrolls continue one optimization; {@link #reset} starts a new instance.
 *
 * <p>Order of calls: {@link #reset} once per instance, then {@link #train} (meta-step) or
 * {@link #run} (no meta-step) once per unroll with unroll indices 0, 1, 2, ...
 */
public final class Unroll implements AutoCloseable {

  /**
   * How the unroll is built.
   *
   * @param unrollLength steps per unroll (the paper's 20)
   * @param secondDerivatives keep the gradient-of-gradient terms (paper and official default: off)
   * @param includeInitialLoss add f(theta_0) to the meta-loss, as the official code does
   * @param metaLearningRate the meta-optimizer's learning rate, or 0 for no meta-step
   * @param clipNorm clip the meta-gradient to this global norm; 0 for no clipping
   * @param seed seed of the rule's initial meta-parameters
   * @param threads TensorFlow's intra- and inter-op threads (0: TensorFlow's default)
   * @param logMetaLoss sum log f(theta_t) instead of f(theta_t), so that late steps, whose losses
   *     are small, weigh as much as early ones (Metz et al. 2019; not in the paper)
   * @param metaOptimizer the meta-optimizer's name ({@link MetaOptimizer#NAMES})
   */
  public record Options(int unrollLength, boolean secondDerivatives, boolean includeInitialLoss,
      double metaLearningRate, double clipNorm, long seed, int threads, boolean logMetaLoss,
      String metaOptimizer) {

    /** Options with Adam as the meta-optimizer. */
    public Options(int unrollLength, boolean secondDerivatives, boolean includeInitialLoss,
        double metaLearningRate, double clipNorm, long seed, int threads, boolean logMetaLoss) {
      this(unrollLength, secondDerivatives, includeInitialLoss, metaLearningRate, clipNorm, seed,
          threads, logMetaLoss, MetaOptimizer.DEFAULT);
    }

    /** Options with the paper's meta-loss, the plain sum of the losses. */
    public Options(int unrollLength, boolean secondDerivatives, boolean includeInitialLoss,
        double metaLearningRate, double clipNorm, long seed, int threads) {
      this(unrollLength, secondDerivatives, includeInitialLoss, metaLearningRate, clipNorm, seed,
          threads, false);
    }

    /** Options for running a rule without meta-training. */
    public static Options evaluation(int unrollLength, int threads) {
      return new Options(unrollLength, false, false, 0, 0, 0, threads);
    }
  }

  /**
   * What one unroll produced.
   *
   * @param skipped the meta-step was skipped because the meta-loss or the meta-gradient was not
   *     finite (phi and the meta-optimizer's state kept their values); false without a meta-step
   */
  public record Result(float[] losses, float metaLoss, float metaGradientNorm, boolean skipped) {
    /** The loss after the last step of the unroll. */
    public float finalLoss() {
      return losses[losses.length - 1];
    }
  }

  private final Problem problem;
  private final List<RuleMap.Binding> bindings;
  private final Options options;
  private final Graph graph;
  private final Session session;
  private final ProblemGraph problemGraph;
  /** Per binding: its rule graph, carried theta and state; spec-order offsets of its params. */
  private final List<RuleGraph> ruleGraphs = new ArrayList<>();
  private final List<Variable<TFloat32>> thetas = new ArrayList<>();
  private final List<List<Variable<TFloat32>>> states = new ArrayList<>();
  private final List<Placeholder<TFloat32>> theta0s = new ArrayList<>();
  private final List<Variable<TFloat32>> metaParams = new ArrayList<>();
  private final List<String> metaParamNames = new ArrayList<>();
  private final Op resetOp;
  private final Operand<TFloat32> losses;
  private final Operand<TFloat32> metaLoss;
  private final Op carryOp;
  private Op trainOp;
  private Operand<TFloat32> metaGradientNorm;
  private MetaOptimizer metaAdam;
  private final List<Placeholder<TFloat32>> loadInputs = new ArrayList<>();
  private Op loadOp;
  private Float learningRateOverride;
  /** Per binding, per step. */
  private final List<List<Operand<TFloat32>>> stepGradients = new ArrayList<>();
  private final List<List<Operand<TFloat32>>> stepUpdates = new ArrayList<>();
  private final List<List<Operand<TFloat32>>> stepInputs = new ArrayList<>();
  private final List<Operand<TFloat32>> metaGradients = new ArrayList<>();
  /** theta_T and h_T of the unroll, for the carries built later ({@link #gradients}). */
  private final List<Operand<TFloat32>> finalThetas;
  private final List<List<Operand<TFloat32>>> finalStates;
  /** Built on first use, for meta-steps averaged over instances or workers. */
  private Op gradientsCarryOp;
  private List<Placeholder<TFloat32>> averagedInputs;
  private Placeholder<TFloat32> averagedMetaLoss;
  private Operand<TFloat32> averagedNorm;
  private Op averagedApplyOp;
  private final java.util.Map<String, Assigner> assigners = new java.util.HashMap<>();

  /** Builds the graph for {@code problem} optimized by {@code rule} and opens a session on it. */
  public Unroll(Problem problem, UpdateRule rule, Options options) {
    this(problem, RuleMap.all(problem.params(), rule), options);
  }

  /**
   * Builds the graph for {@code problem}, each binding's rule updating its parameters, and opens
   * a session on it. With one binding the graph is the single-rule graph (same variable names).
   */
  public Unroll(Problem problem, List<RuleMap.Binding> bindings, Options options) {
    if (options.unrollLength() < 1) {
      throw new IllegalArgumentException("unroll length must be positive");
    }
    if (bindings.isEmpty()) {
      throw new IllegalArgumentException("no rule");
    }
    this.problem = problem;
    if (options.metaLearningRate() <= 0) {
      bindings = withoutGradients(bindings);
    }
    this.bindings = List.copyOf(bindings);
    this.options = options;
    if (options.secondDerivatives()) {
      SecondOrderGradients.register();
    }
    this.graph = new Graph();
    Ops tf = Ops.create(graph);
    int length = options.unrollLength();
    boolean single = bindings.size() == 1;

    problemGraph = problem.build(tf.withSubScope("optimizee"), length);
    int learnedIndex = 0;
    for (RuleMap.Binding b : bindings) {
      // Each learned rule draws its initial weights from its own stream; the first one's is the
      // single-rule stream, so a one-rule run starts where it always did.
      long index = b.learned() ? learnedIndex++ : 0;
      Ops ruleScope = single || b.learned() ? tf : tf.withSubScope(b.label());
      RuleGraph rg = b.rule().build(ruleScope, size(b),
          Seeds.random(options.seed(), Seeds.Stream.INIT, index));
      ruleGraphs.add(rg);
      metaParams.addAll(rg.metaParams());
      metaParamNames.addAll(rg.metaParamNames());
    }

    // Optimizee parameters and optimizer state, carried across unrolls (not trainable).
    Ops carried = tf.withSubScope("carried");
    for (int b = 0; b < bindings.size(); b++) {
      long n = size(bindings.get(b));
      thetas.add(carried.withName("theta" + suffix(b)).variable(
          carried.zeros(carried.constant(new long[] {n}), TFloat32.class)));
      List<Shape> stateShapes = ruleGraphs.get(b).stateShapes();
      List<Variable<TFloat32>> st = new ArrayList<>();
      for (int i = 0; i < stateShapes.size(); i++) {
        st.add(carried.withName("state" + (single ? "" : suffix(b) + "_") + i).variable(
            carried.zeros(carried.constant(stateShapes.get(i).asArray()), TFloat32.class)));
      }
      states.add(st);
    }

    // Reset: a new instance starts at its theta_0 with zero optimizer state.
    Ops reset = tf.withSubScope("reset");
    List<Op> resets = new ArrayList<>();
    for (int b = 0; b < bindings.size(); b++) {
      Placeholder<TFloat32> t0 = reset.withName("theta0" + suffix(b)).placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(size(bindings.get(b)))));
      theta0s.add(t0);
      resets.add(reset.assign(thetas.get(b), t0));
      for (Variable<TFloat32> s : states.get(b)) {
        resets.add(reset.assign(s, reset.zerosLike(s)));
      }
    }
    resetOp = reset.withControlDependencies(resets).withName("reset").noOp();

    // The unrolled steps.
    List<Operand<TFloat32>> thetaT = new ArrayList<>();
    List<List<Operand<TFloat32>>> stateT = new ArrayList<>();
    for (int b = 0; b < bindings.size(); b++) {
      thetaT.add(carried.withName("theta_read" + suffix(b)).identity(thetas.get(b)));
      stateT.add(new ArrayList<>(states.get(b)));
      stepGradients.add(new ArrayList<>());
      stepUpdates.add(new ArrayList<>());
      stepInputs.add(new ArrayList<>());
    }
    List<Operand<TFloat32>> stepLosses = new ArrayList<>();
    // The meta-loss's terms: f(theta_t), or (see below) a term with its value whose gradient
    // with respect to theta_t is the optimizee gradient the step has computed.
    List<Operand<TFloat32>> metaTerms = new ArrayList<>();
    boolean reuseGradients = !options.secondDerivatives() && !options.logMetaLoss();
    for (int t = 0; t < length; t++) {
      Ops step = tf.withSubScope("step_" + t);
      Ops fScope = step.withSubScope("f");
      Ops gradScope = step.withSubScope("gradient");
      List<Operand<TFloat32>> ps = params(fScope, thetaT);
      ProblemGraph.LossAndGradients written = problemGraph.lossAndGradients(fScope, gradScope,
          ps, t);
      Operand<TFloat32> f = written != null ? written.loss() : problemGraph.loss(fScope, ps, t);
      stepLosses.add(f);
      var dy = written != null ? null : gradScope.gradients(f, thetaT);
      Ops m = step.withSubScope("m");
      Ops update = step.withSubScope("update");
      List<Operand<TFloat32>> nextTheta = new ArrayList<>();
      Operand<TFloat32> dot = null; // sum over bindings of theta_t . stop(g_t)
      for (int b = 0; b < bindings.size(); b++) {
        Operand<TFloat32> grad = written != null
            ? flatGradient(gradScope, written.gradients(), bindings.get(b).params())
            : dy.dy(b);
        if (!options.secondDerivatives()) {
          grad = gradScope.withName("stop" + suffix(b))
              .stopGradient(grad);
        }
        stepGradients.get(b).add(grad);
        if (reuseGradients) {
          Operand<TFloat32> d = gradScope.reduceSum(gradScope.math.mul(thetaT.get(b), grad),
              gradScope.constant(0));
          dot = dot == null ? d : gradScope.math.add(dot, d);
        }
        RuleGraph.Step u = ruleGraphs.get(b).step(single ? m
            : m.withSubScope(bindings.get(b).label()), grad, stateT.get(b));
        stepUpdates.get(b).add(u.update());
        if (u.preprocessed() != null) {
          stepInputs.get(b).add(u.preprocessed());
        }
        nextTheta.add(plus(update.withName("theta" + suffix(b)), thetaT.get(b), u.update()));
        stateT.set(b, u.state());
      }
      // Without second derivatives, d f(theta_t) / d theta_t in the meta-gradient is the
      // optimizee gradient g_t this step has computed, the same ops on the same values: the term
      // stop(f) + (theta_t . stop(g_t) - stop(theta_t . stop(g_t))) has f's value (x - x is 0)
      // and g_t as that gradient, so the meta-gradient does not run the optimizee's backward
      // pass a second time (theta_0 takes no meta-gradient: its term stays f).
      if (reuseGradients && t > 0) {
        Ops term = step.withSubScope("meta_term");
        metaTerms.add(term.math.add(term.stopGradient(f),
            term.math.sub(dot, term.stopGradient(dot))));
      } else {
        metaTerms.add(f);
      }
      thetaT = nextTheta;
    }
    Ops last = tf.withSubScope("step_" + length).withSubScope("f");
    stepLosses.add(problemGraph.loss(last, params(last, thetaT), length));
    metaTerms.add(stepLosses.get(length));

    Ops meta = tf.withSubScope("meta_loss");
    losses = meta.withName("losses").stack(stepLosses);
    // ReduceSum over a stack, not AddN: AddN reuses whichever input buffer is free first, so its
    // summation order (and last bit) would depend on thread timing.
    Operand<TFloat32> summed = meta.stack(options.includeInitialLoss() ? metaTerms
        : metaTerms.subList(1, metaTerms.size()));
    if (options.logMetaLoss()) {
      summed = meta.math.log(summed);
    }
    metaLoss = meta.withName("meta_loss").reduceSum(summed, meta.constant(0));

    carryOp = buildCarry(tf.withSubScope("carry"), thetaT, stateT, List.of((Op) losses));
    finalThetas = thetaT;
    finalStates = stateT;

    if (options.metaLearningRate() > 0) {
      if (metaParams.isEmpty()) {
        throw new IllegalArgumentException("no learned rule: nothing to meta-train");
      }
      Ops mo = tf.withSubScope("meta_optimizer");
      List<Operand<TFloat32>> grads = new ArrayList<>();
      for (Operand<?> g : mo.withSubScope("gradients").gradients(metaLoss, metaParams)) {
        @SuppressWarnings("unchecked")
        Operand<TFloat32> gf = (Operand<TFloat32>) g;
        grads.add(gf);
      }
      metaGradients.addAll(grads);
      MetaStep step = metaStep(mo, grads, metaLoss);
      metaGradientNorm = step.norm();
      Op apply = step.apply();
      // The carried values are written only after the meta-step has read everything it needs.
      trainOp = buildCarry(tf.withSubScope("carry_after_meta_step"), thetaT, stateT,
          List.of(apply, (Op) losses));
    }

    if (!metaParams.isEmpty()) {
      Ops load = tf.withSubScope("load");
      List<Op> assigns = new ArrayList<>();
      for (int i = 0; i < metaParams.size(); i++) {
        Placeholder<TFloat32> in = load.withName("value" + i).placeholder(TFloat32.class,
            Placeholder.shape(metaParams.get(i).shape()));
        loadInputs.add(in);
        assigns.add(load.assign(metaParams.get(i), in));
      }
      loadOp = load.withControlDependencies(assigns).withName("load").noOp();
    }
    boolean jit = bindings.stream().anyMatch(b -> b.rule() instanceof CoordinatewiseLstm lstm
        && lstm.kernel().jit());
    session = new Session(graph, sessionConfig(options.threads(), jit, problem.parallelBranches()));
  }

  /**
   * The bindings of a graph that takes no meta-gradient: learned rules that can skip what only a
   * gradient needs do (see {@link CoordinatewiseLstm#withoutGradient}).
   */
  private static List<RuleMap.Binding> withoutGradients(List<RuleMap.Binding> bindings) {
    List<RuleMap.Binding> out = new ArrayList<>();
    for (RuleMap.Binding b : bindings) {
      out.add(b.rule() instanceof CoordinatewiseLstm lstm
          ? new RuleMap.Binding(b.label(), lstm.withoutGradient(), b.groups(), b.params()) : b);
    }
    return List.copyOf(out);
  }

  /**
   * a + b: AddN where both shapes are known and equal (its gradient passes the incoming one on,
   * where Add's reduces it over broadcast axes: seven ops a step in each gradient, which a small
   * problem's meta-step notices), else Add. The same sum, bit for bit.
   */
  static Operand<TFloat32> plus(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
    Shape sa = a.shape();
    Shape sb = b.shape();
    if (!sa.isUnknown() && !sa.hasUnknownDimension() && sa.equals(sb)) {
      return tf.math.addN(List.of(a, b));
    }
    return tf.math.add(a, b);
  }

  /** A meta-step built from meta-gradients: their global norm and the op applying them. */
  private record MetaStep(Operand<TFloat32> norm, Op apply) {}

  /**
   * The meta-step of {@code grads} (d metaLoss / d phi, before clipping): the global norm, the
   * clipping, the finiteness test and Adam's update of phi. Built once for the fused meta-step,
   * and once more, on the same Adam slots, for {@link #applyMetaGradient}.
   */
  private MetaStep metaStep(Ops mo, List<Operand<TFloat32>> grads, Operand<TFloat32> metaLoss) {
    Operand<TFloat32> metaGradientNorm;
    List<Operand<TFloat32>> squares = new ArrayList<>();
    for (Operand<TFloat32> g : grads) {
      squares.add(mo.reduceSum(mo.math.square(g), mo.constant(allAxes(g))));
    }
    metaGradientNorm = mo.withName("gradient_norm").math.sqrt(mo.math.addN(squares));
    if (options.clipNorm() > 0) {
      Operand<TFloat32> scale = mo.math.div(mo.constant((float) options.clipNorm()),
          mo.math.maximum(metaGradientNorm, mo.constant((float) options.clipNorm())));
      List<Operand<TFloat32>> clipped = new ArrayList<>();
      for (Operand<TFloat32> g : grads) {
        clipped.add(mo.math.mul(g, scale));
      }
      grads = clipped;
    }
    // A non-finite meta-loss or meta-gradient skips the meta-step: phi and Adam's state keep
    // their values (Java reads the same two numbers to count the skip).
    Operand<TBool> finite = mo.withName("finite").math.logicalAnd(
        mo.math.isFinite(metaLoss), mo.math.isFinite(metaGradientNorm));
    if (metaAdam == null) {
      metaAdam = MetaOptimizer.create(options.metaOptimizer(), options.metaLearningRate());
    }
    Op apply = metaAdam.apply(mo, grads, metaParams, metaParamNames, finite);
    return new MetaStep(metaGradientNorm, apply);
  }

  /**
   * The suffix of binding b's names in the graph: none with one rule (the single-rule graph's
   * names, so its checkpoints restore), "_LABEL" with several.
   */
  private String suffix(int b) {
    return bindings.size() == 1 ? "" : "_" + bindings.get(b).label();
  }

  /** Coordinates of a binding. */
  private long size(RuleMap.Binding b) {
    List<ParamSpec> specs = problem.params();
    return b.params().stream().mapToLong(i -> specs.get(i).size()).sum();
  }

  private static long[] allAxes(Operand<?> x) {
    int rank = x.shape().numDimensions();
    long[] axes = new long[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return axes;
  }

  private Op buildCarry(Ops tf, List<Operand<TFloat32>> thetaT,
      List<List<Operand<TFloat32>>> stateT, List<Op> after) {
    Ops ordered = tf.withControlDependencies(after);
    List<Op> assigns = new ArrayList<>();
    for (int b = 0; b < thetas.size(); b++) {
      assigns.add(ordered.assign(thetas.get(b), thetaT.get(b)));
      for (int i = 0; i < states.get(b).size(); i++) {
        assigns.add(ordered.assign(states.get(b).get(i), stateT.get(b).get(i)));
      }
    }
    return tf.withControlDependencies(assigns).withName("done").noOp();
  }

  /** The problem's parameter tensors, in spec order, from each binding's flat vector. */
  private List<Operand<TFloat32>> params(Ops tf, List<Operand<TFloat32>> flats) {
    List<ParamSpec> specs = problem.params();
    List<Operand<TFloat32>> params = new ArrayList<>(java.util.Collections.nCopies(specs.size(),
        (Operand<TFloat32>) null));
    for (int b = 0; b < bindings.size(); b++) {
      List<Integer> idx = bindings.get(b).params();
      List<ParamSpec> own = idx.stream().map(specs::get).toList();
      List<Operand<TFloat32>> split = splitParams(tf, flats.get(b), own);
      for (int k = 0; k < idx.size(); k++) {
        params.set(idx.get(k), split.get(k));
      }
    }
    return params;
  }

  /**
   * A binding's flat gradient from the problem's per-parameter gradients: what TensorFlow's
   * gradients of {@link #splitParams} give (each reshaped to a vector, concatenated in order).
   */
  private static Operand<TFloat32> flatGradient(Ops tf, List<Operand<TFloat32>> grads,
      List<Integer> params) {
    Operand<org.tensorflow.types.TInt64> vector = tf.constant(new long[] {-1});
    List<Operand<TFloat32>> parts = new ArrayList<>();
    for (int i : params) {
      parts.add(tf.reshape(grads.get(i), vector));
    }
    return parts.size() == 1 ? parts.get(0) : tf.concat(parts, tf.constant(0));
  }

  /** Splits a flat coordinate vector into the given parameter tensors. */
  private static List<Operand<TFloat32>> splitParams(Ops tf, Operand<TFloat32> flat,
      List<ParamSpec> specs) {
    if (specs.size() == 1) {
      return List.of(tf.reshape(flat, tf.constant(specs.get(0).shape())));
    }
    long[] sizes = specs.stream().mapToLong(ParamSpec::size).toArray();
    var parts = tf.splitV(flat, tf.constant(sizes), tf.constant(0), (long) sizes.length);
    List<Operand<TFloat32>> params = new ArrayList<>();
    for (int i = 0; i < specs.size(); i++) {
      params.add(tf.reshape(parts.output().get(i), tf.constant(specs.get(i).shape())));
    }
    return params;
  }

  /**
   * The session's options: threads (intra-op {@code threads}; inter-op as many where the problem
   * has parallel branches, else none: -1 runs the ops in the calling thread, see
   * {@link Problem#parallelBranches}), and XLA's JIT where a rule asks for it.
   */
  private static ConfigProto sessionConfig(int threads, boolean jit, boolean parallelBranches) {
    ConfigProto.Builder config = ConfigProto.newBuilder();
    if (threads > 0) {
      config.setIntraOpParallelismThreads(threads);
    }
    if (!parallelBranches) {
      config.setInterOpParallelismThreads(-1);
    } else if (threads > 0) {
      config.setInterOpParallelismThreads(threads);
    }
    if (jit) {
      Xla.enable();
      config.getGraphOptionsBuilder().getOptimizerOptionsBuilder().setGlobalJitLevel(
          org.tensorflow.proto.OptimizerOptions.GlobalJitLevel.ON_2);
    }
    return config.build();
  }

  /** Starts a new instance: theta = theta_0, optimizer state zero. */
  public void reset(Instance instance) {
    float[] init = instance.initialTheta();
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (int b = 0; b < bindings.size(); b++) {
        float[] part = bindings.size() == 1 ? init : gather(init, b);
        TFloat32 t = Tensors.floats(part, part.length);
        owned.add(t);
        runner.feed(theta0s.get(b), t);
      }
      runner.addTarget(resetOp).run();
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** Offsets in the spec-order flat vector of every parameter. */
  private long[] offsets() {
    List<ParamSpec> specs = problem.params();
    long[] offsets = new long[specs.size() + 1];
    for (int i = 0; i < specs.size(); i++) {
      offsets[i + 1] = offsets[i] + specs.get(i).size();
    }
    return offsets;
  }

  /** Binding b's coordinates out of a spec-order flat vector. */
  private float[] gather(float[] flat, int b) {
    long[] offsets = offsets();
    float[] out = new float[(int) size(bindings.get(b))];
    int at = 0;
    for (int i : bindings.get(b).params()) {
      int len = (int) (offsets[i + 1] - offsets[i]);
      System.arraycopy(flat, (int) offsets[i], out, at, len);
      at += len;
    }
    return out;
  }

  /** Runs one unroll with a meta-step on phi; returns the losses and meta-loss. */
  public Result train(Instance instance, int unrollIndex) {
    requireMetaOptimizer();
    return execute(instance, unrollIndex, true, null);
  }

  /**
   * Runs one unroll with a meta-step, as {@link #train}, and returns TensorFlow's trace of it:
   * every op's start and duration (for {@code benchmark --profile}).
   */
  public org.tensorflow.proto.RunMetadata traceTrain(Instance instance, int unrollIndex) {
    requireMetaOptimizer();
    org.tensorflow.proto.RunMetadata[] trace = new org.tensorflow.proto.RunMetadata[1];
    execute(instance, unrollIndex, true, trace);
    return trace[0];
  }

  private void requireMetaOptimizer() {
    if (trainOp == null) {
      throw new IllegalStateException("this unroll was built without a meta-optimizer");
    }
  }

  /** Runs one unroll without a meta-step; returns losses f_0..f_T of this unroll. */
  public Result run(Instance instance, int unrollIndex) {
    return execute(instance, unrollIndex, false, null);
  }

  /** Runs an unroll; with {@code trace} non-null, traced, the trace put in trace[0]. */
  private Result execute(Instance instance, int unrollIndex, boolean metaStep,
      org.tensorflow.proto.RunMetadata[] trace) {
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      problemGraph.feed(runner, instance, unrollIndex, owned);
      if (learningRateOverride != null) {
        for (RuleGraph rg : ruleGraphs) {
          if (rg.learningRate() != null) {
            TFloat32 lr = Tensors.scalar(learningRateOverride);
            owned.add(lr);
            runner.feed(rg.learningRate(), lr);
          }
        }
      }
      runner.fetch(losses).fetch(metaLoss);
      if (metaStep) {
        runner.fetch(metaGradientNorm).addTarget(trainOp);
      } else {
        runner.addTarget(carryOp);
        for (RuleGraph rg : ruleGraphs) {
          rg.feedWithoutGradient(runner, owned);
        }
      }
      if (trace != null) {
        runner.setOptions(org.tensorflow.proto.RunOptions.newBuilder()
            .setTraceLevel(org.tensorflow.proto.RunOptions.TraceLevel.FULL_TRACE).build());
      }
      try (org.tensorflow.Result out = trace == null ? runner.run()
          : runner.runAndFetchMetadata()) {
        if (trace != null) {
          trace[0] = out.getMetadata().orElseThrow();
        }
        float[] l = Tensors.toArray(out.get(0));
        float ml = Tensors.toScalar(out.get(1));
        float norm = metaStep ? Tensors.toScalar(out.get(2)) : Float.NaN;
        return new Result(l, ml, norm, metaStep && !(Float.isFinite(ml) && Float.isFinite(norm)));
      }
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /**
   * The optimizee gradients grad_t (t = 0..T-1) of one unroll from the current state, without
   * changing any variable: for inspection and tests.
   */
  public List<float[]> optimizeeGradients(Instance instance, int unrollIndex) {
    List<Operand<TFloat32>> fetches = new ArrayList<>();
    stepGradients.forEach(fetches::addAll);
    List<float[]> fetched = fetchWithFeeds(instance, unrollIndex, fetches);
    int steps = stepGradients.get(0).size();
    List<float[]> out = new ArrayList<>();
    for (int t = 0; t < steps; t++) {
      List<float[]> perBinding = new ArrayList<>();
      for (int b = 0; b < bindings.size(); b++) {
        perBinding.add(fetched.get(b * steps + t));
      }
      out.add(specOrder(perBinding));
    }
    return out;
  }

  /** What one unroll's steps computed, for histograms: gradients, updates, preprocessed inputs. */
  public record Probe(List<float[]> gradients, List<float[]> updates, List<float[]> inputs) {}

  /**
   * Runs one unroll from the current state without changing any variable and returns, per
   * binding ({@link #bindings()} order), every step's optimizee gradient, update g_t and
   * preprocessed input (empty for baselines).
   */
  public List<Probe> probes(Instance instance, int unrollIndex) {
    List<Operand<TFloat32>> fetches = new ArrayList<>();
    for (int b = 0; b < bindings.size(); b++) {
      fetches.addAll(stepGradients.get(b));
      fetches.addAll(stepUpdates.get(b));
      fetches.addAll(stepInputs.get(b));
    }
    List<float[]> all = fetchWithFeeds(instance, unrollIndex, fetches);
    List<Probe> out = new ArrayList<>();
    int at = 0;
    for (int b = 0; b < bindings.size(); b++) {
      int u = stepGradients.get(b).size();
      int in = stepInputs.get(b).size();
      out.add(new Probe(all.subList(at, at + u), all.subList(at + u, at + 2 * u),
          all.subList(at + 2 * u, at + 2 * u + in)));
      at += 2 * u + in;
    }
    return out;
  }

  /**
   * The meta-gradient d metaLoss / d phi (before clipping) of one unroll from the current state,
   * without changing any variable: for inspection and tests.
   */
  public List<float[]> metaGradient(Instance instance, int unrollIndex) {
    if (metaGradients.isEmpty()) {
      throw new IllegalStateException("this unroll was built without a meta-optimizer");
    }
    return fetchWithFeeds(instance, unrollIndex, metaGradients);
  }

  private List<float[]> fetchWithFeeds(Instance instance, int unrollIndex,
      List<Operand<TFloat32>> fetches) {
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      problemGraph.feed(runner, instance, unrollIndex, owned);
      fetches.forEach(runner::fetch);
      try (org.tensorflow.Result out = runner.run()) {
        List<float[]> values = new ArrayList<>();
        for (int i = 0; i < fetches.size(); i++) {
          values.add(Tensors.toArray(out.get(i)));
        }
        return values;
      }
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /**
   * One unroll's losses and meta-gradient (d metaLoss / d phi, before clipping), in
   * {@link #metaParamValues} order.
   */
  public record Gradients(Result result, List<float[]> metaGradient) {}

  /**
   * Runs one unroll without a meta-step and returns its meta-gradient; the carried theta and
   * state move on to the unroll's end, as after {@link #train}. With {@link #applyMetaGradient}
   * this is {@link #train} in two halves, so that meta-gradients of several instances (or
   * workers) can be averaged in between. The graph for it is built on first use.
   */
  public Gradients gradients(Instance instance, int unrollIndex) {
    requireMetaOptimizer();
    if (gradientsCarryOp == null) {
      List<Op> after = new ArrayList<>();
      after.add(losses);
      for (Operand<TFloat32> g : metaGradients) {
        after.add(g);
      }
      gradientsCarryOp = buildCarry(Ops.create(graph).withSubScope("carry_after_gradients"),
          finalThetas, finalStates, after);
    }
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      problemGraph.feed(runner, instance, unrollIndex, owned);
      runner.fetch(losses).fetch(metaLoss);
      metaGradients.forEach(runner::fetch);
      runner.addTarget(gradientsCarryOp);
      try (org.tensorflow.Result out = runner.run()) {
        float[] l = Tensors.toArray(out.get(0));
        float ml = Tensors.toScalar(out.get(1));
        List<float[]> grads = new ArrayList<>();
        for (int i = 0; i < metaGradients.size(); i++) {
          grads.add(Tensors.toArray(out.get(2 + i)));
        }
        return new Gradients(new Result(l, ml, Float.NaN, false), grads);
      }
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /**
   * The meta-step of a given meta-gradient (say the mean of several from {@link #gradients}):
   * the same clipping, finiteness test (on {@code metaLoss} and the gradient's norm) and Adam
   * update, on the same Adam state, as {@link #train}. Returns the result with empty losses.
   */
  public Result applyMetaGradient(List<float[]> metaGradient, float metaLoss) {
    requireMetaOptimizer();
    if (averagedApplyOp == null) {
      Ops mo = Ops.create(graph).withSubScope("meta_optimizer_averaged");
      averagedInputs = new ArrayList<>();
      List<Operand<TFloat32>> grads = new ArrayList<>();
      for (int i = 0; i < metaParams.size(); i++) {
        Placeholder<TFloat32> in = mo.withName("gradient" + i).placeholder(TFloat32.class,
            Placeholder.shape(metaParams.get(i).shape()));
        averagedInputs.add(in);
        grads.add(in);
      }
      averagedMetaLoss = mo.withName("meta_loss").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      MetaStep step = metaStep(mo, grads, averagedMetaLoss);
      averagedNorm = step.norm();
      averagedApplyOp = step.apply();
    }
    if (metaGradient.size() != metaParams.size()) {
      throw new IllegalArgumentException("expected " + metaParams.size() + " tensors, got "
          + metaGradient.size());
    }
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (int i = 0; i < metaParams.size(); i++) {
        TFloat32 t = Tensors.floats(metaGradient.get(i), metaParams.get(i).shape().asArray());
        owned.add(t);
        runner.feed(averagedInputs.get(i), t);
      }
      TFloat32 loss = Tensors.scalar(metaLoss);
      owned.add(loss);
      runner.feed(averagedMetaLoss, loss).fetch(averagedNorm).addTarget(averagedApplyOp);
      try (org.tensorflow.Result out = runner.run()) {
        float norm = Tensors.toScalar(out.get(0));
        return new Result(new float[0], metaLoss, norm,
            !(Float.isFinite(metaLoss) && Float.isFinite(norm)));
      }
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** The carried variables: every binding's theta, then its state tensors. */
  private List<Variable<TFloat32>> carriedVariables() {
    List<Variable<TFloat32>> vars = new ArrayList<>();
    for (int b = 0; b < thetas.size(); b++) {
      vars.add(thetas.get(b));
      vars.addAll(states.get(b));
    }
    return vars;
  }

  /**
   * The carried optimizee parameters and optimizer state (every binding's theta, then its
   * state), to park one instance while another uses the unroll ({@link #setCarriedValues}).
   */
  public List<float[]> carriedValues() {
    return fetchAll(carriedVariables());
  }

  /** Sets the carried values to what {@link #carriedValues} returned. */
  public void setCarriedValues(List<float[]> values) {
    assign("carried", carriedVariables(), values);
  }

  /** Sets the meta-optimizer's slots (as {@link #metaOptimizerValues} returned them). */
  public void setMetaOptimizerValues(List<float[]> values) {
    if (metaAdam == null) {
      throw new IllegalStateException("this unroll was built without a meta-optimizer");
    }
    assign("meta_optimizer_slots", metaAdam.slots(), values);
  }

  /** Placeholders and the op assigning them to a list of variables, built on first use. */
  private record Assigner(List<Placeholder<TFloat32>> inputs, Op op) {}

  private void assign(String name, List<Variable<TFloat32>> vars, List<float[]> values) {
    if (values.size() != vars.size()) {
      throw new IllegalArgumentException("expected " + vars.size() + " tensors, got "
          + values.size());
    }
    Assigner a = assigners.computeIfAbsent(name, n -> {
      Ops tf = Ops.create(graph).withSubScope("set_" + n);
      List<Placeholder<TFloat32>> inputs = new ArrayList<>();
      List<Op> assigns = new ArrayList<>();
      for (int i = 0; i < vars.size(); i++) {
        Placeholder<TFloat32> in = tf.withName("value" + i).placeholder(TFloat32.class,
            Placeholder.shape(vars.get(i).shape()));
        inputs.add(in);
        assigns.add(tf.assign(vars.get(i), in));
      }
      return new Assigner(inputs, tf.withControlDependencies(assigns).withName("done").noOp());
    });
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (int i = 0; i < vars.size(); i++) {
        TFloat32 t = Tensors.floats(values.get(i), vars.get(i).shape().asArray());
        owned.add(t);
        runner.feed(a.inputs().get(i), t);
      }
      runner.addTarget(a.op()).run();
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** Sets the learning rate of a hand-designed rule for following runs (null: the rule's own). */
  public void setLearningRate(Float learningRate) {
    this.learningRateOverride = learningRate;
  }

  /** The current values of the meta-parameters phi, in the rule's order. */
  public List<float[]> metaParamValues() {
    return fetchAll(metaParams);
  }

  /** The meta-optimizer's slot values (Adam's m, v and step), in {@link MetaOptimizer#slots()} order. */
  public List<float[]> metaOptimizerValues() {
    return metaAdam == null ? List.of() : fetchAll(metaAdam.slots());
  }

  /** Current optimizee parameters theta (flat, in the problem's parameter order). */
  public float[] theta() {
    return specOrder(fetchAll(thetas));
  }

  /**
   * One value per coordinate in the problem's parameter order, from one array per binding in its
   * own order (the inverse of {@link #gather}).
   */
  private float[] specOrder(List<float[]> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    long[] offsets = offsets();
    float[] flat = new float[(int) offsets[offsets.length - 1]];
    for (int b = 0; b < bindings.size(); b++) {
      int at = 0;
      for (int i : bindings.get(b).params()) {
        int len = (int) (offsets[i + 1] - offsets[i]);
        System.arraycopy(parts.get(b), at, flat, (int) offsets[i], len);
        at += len;
      }
    }
    return flat;
  }

  private List<float[]> fetchAll(List<Variable<TFloat32>> vars) {
    if (vars.isEmpty()) {
      return List.of();
    }
    Session.Runner runner = session.runner();
    vars.forEach(runner::fetch);
    try (org.tensorflow.Result out = runner.run()) {
      List<float[]> values = new ArrayList<>();
      for (int i = 0; i < vars.size(); i++) {
        values.add(Tensors.toArray(out.get(i)));
      }
      return values;
    }
  }

  /** Overwrites the meta-parameters phi with {@code values}, in the rule's order. */
  public void setMetaParamValues(List<float[]> values) {
    List<Variable<TFloat32>> params = metaParams;
    if (values.size() != params.size()) {
      throw new IllegalArgumentException("expected " + params.size() + " tensors, got "
          + values.size());
    }
    List<Tensor> owned = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (int i = 0; i < params.size(); i++) {
        TFloat32 t = Tensors.floats(values.get(i), params.get(i).shape().asArray());
        owned.add(t);
        runner.feed(loadInputs.get(i), t);
      }
      runner.addTarget(loadOp).run();
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** Names of the meta-parameters phi of every learned rule, in {@link #metaParamValues} order. */
  public List<String> metaParamNames() {
    return java.util.Collections.unmodifiableList(metaParamNames);
  }

  /** The learned rules, in the order of {@link #metaParamValues}. */
  public List<LearnedRule> learnedRules() {
    List<LearnedRule> out = new ArrayList<>();
    for (RuleMap.Binding b : bindings) {
      if (b.rule() instanceof LearnedRule l) {
        out.add(l);
      }
    }
    return out;
  }

  /** Sets every learned rule's weights from a trained optimizer, matched by scope. */
  public void setMetaParamValues(OptimizerFile.Loaded trained) {
    setMetaParamValues(trained.values(learnedRules().stream().map(LearnedRule::scope)
        .toList()));
  }

  /** Which rule updates which parameters. */
  public List<RuleMap.Binding> bindings() {
    return bindings;
  }

  /** The graph, for TensorBoard and export. */
  public Graph graph() {
    return graph;
  }

  /** The session running the graph. */
  public Session session() {
    return session;
  }

  /** Steps per unroll. */
  public int unrollLength() {
    return options.unrollLength();
  }

  /** The problem this unroll optimizes. */
  public Problem problem() {
    return problem;
  }

  /** The rule of the first binding (the only one in a single-rule unroll). */
  public UpdateRule rule() {
    return bindings.get(0).rule();
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
