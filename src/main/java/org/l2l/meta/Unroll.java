package org.l2l.meta;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.l2l.problem.Instance;
import org.l2l.problem.ParamSpec;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemGraph;
import org.l2l.rule.RuleGraph;
import org.l2l.rule.UpdateRule;
import org.l2l.tf.SecondOrderGradients;
import org.l2l.tf.Tensors;
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
   * @param metaLearningRate Adam's learning rate for the meta-step, or 0 for no meta-step
   * @param clipNorm clip the meta-gradient to this global norm; 0 for no clipping
   * @param seed seed of the rule's initial meta-parameters
   * @param threads TensorFlow's intra- and inter-op threads (0: TensorFlow's default)
   * @param logMetaLoss sum log f(theta_t) instead of f(theta_t), so that late steps, whose losses
   *     are small, weigh as much as early ones (Metz et al. 2019; not in the paper)
   */
  public record Options(int unrollLength, boolean secondDerivatives, boolean includeInitialLoss,
      double metaLearningRate, double clipNorm, long seed, int threads, boolean logMetaLoss) {

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

  /** What one unroll produced. */
  public record Result(float[] losses, float metaLoss, float metaGradientNorm) {
    /** The loss after the last step of the unroll. */
    public float finalLoss() {
      return losses[losses.length - 1];
    }
  }

  private final Problem problem;
  private final UpdateRule rule;
  private final Options options;
  private final Graph graph;
  private final Session session;
  private final ProblemGraph problemGraph;
  private final RuleGraph ruleGraph;
  private final Variable<TFloat32> theta;
  private final List<Variable<TFloat32>> state = new ArrayList<>();
  private final Placeholder<TFloat32> theta0;
  private final Op resetOp;
  private final Operand<TFloat32> losses;
  private final Operand<TFloat32> metaLoss;
  private final Op carryOp;
  private Op trainOp;
  private Operand<TFloat32> metaGradientNorm;
  private MetaAdam metaAdam;
  private final List<Placeholder<TFloat32>> loadInputs = new ArrayList<>();
  private Op loadOp;
  private Float learningRateOverride;
  private final List<Operand<TFloat32>> stepGradients = new ArrayList<>();
  private final List<Operand<TFloat32>> metaGradients = new ArrayList<>();
  private final List<Operand<TFloat32>> stepUpdates = new ArrayList<>();
  private final List<Operand<TFloat32>> stepInputs = new ArrayList<>();

  /** Builds the graph for {@code problem} optimized by {@code rule} and opens a session on it. */
  public Unroll(Problem problem, UpdateRule rule, Options options) {
    if (options.unrollLength() < 1) {
      throw new IllegalArgumentException("unroll length must be positive");
    }
    this.problem = problem;
    this.rule = rule;
    this.options = options;
    if (options.secondDerivatives()) {
      SecondOrderGradients.register();
    }
    this.graph = new Graph();
    Ops tf = Ops.create(graph);
    long n = problem.numCoordinates();
    int length = options.unrollLength();

    problemGraph = problem.build(tf.withSubScope("optimizee"), length);
    ruleGraph = rule.build(tf, n, Seeds.random(options.seed(), Seeds.Stream.INIT, 0));

    // Optimizee parameters and optimizer state, carried across unrolls (not trainable).
    Ops carried = tf.withSubScope("carried");
    theta = carried.withName("theta").variable(carried.zeros(carried.constant(new long[] {n}),
        TFloat32.class));
    List<Shape> stateShapes = ruleGraph.stateShapes();
    for (int i = 0; i < stateShapes.size(); i++) {
      state.add(carried.withName("state" + i).variable(
          carried.zeros(carried.constant(stateShapes.get(i).asArray()), TFloat32.class)));
    }

    // Reset: a new instance starts at its theta_0 with zero optimizer state.
    Ops reset = tf.withSubScope("reset");
    theta0 = reset.withName("theta0").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(n)));
    List<Op> resets = new ArrayList<>();
    resets.add(reset.assign(theta, theta0));
    for (Variable<TFloat32> s : state) {
      resets.add(reset.assign(s, reset.zerosLike(s)));
    }
    resetOp = reset.withControlDependencies(resets).withName("reset").noOp();

    // The unrolled steps.
    Operand<TFloat32> thetaT = carried.withName("theta_read").identity(theta);
    List<Operand<TFloat32>> stateT = new ArrayList<>(state);
    List<Operand<TFloat32>> stepLosses = new ArrayList<>();
    for (int t = 0; t < length; t++) {
      Ops step = tf.withSubScope("step_" + t);
      Ops fScope = step.withSubScope("f");
      Operand<TFloat32> f = problemGraph.loss(fScope, splitParams(fScope, thetaT), t);
      stepLosses.add(f);
      Ops gradScope = step.withSubScope("gradient");
      Operand<TFloat32> grad = gradScope.gradients(f, List.of(thetaT)).dy(0);
      if (!options.secondDerivatives()) {
        grad = gradScope.withName("stop").stopGradient(grad);
      }
      stepGradients.add(grad);
      RuleGraph.Step update = ruleGraph.step(step.withSubScope("m"), grad, stateT);
      stepUpdates.add(update.update());
      if (update.preprocessed() != null) {
        stepInputs.add(update.preprocessed());
      }
      thetaT = step.withSubScope("update").withName("theta").math.add(thetaT, update.update());
      stateT = update.state();
    }
    Ops last = tf.withSubScope("step_" + length).withSubScope("f");
    stepLosses.add(problemGraph.loss(last, splitParams(last, thetaT), length));

    Ops meta = tf.withSubScope("meta_loss");
    losses = meta.withName("losses").stack(stepLosses);
    // ReduceSum over a stack, not AddN: AddN reuses whichever input buffer is free first, so its
    // summation order (and last bit) would depend on thread timing.
    Operand<TFloat32> summed = meta.stack(options.includeInitialLoss() ? stepLosses
        : stepLosses.subList(1, stepLosses.size()));
    if (options.logMetaLoss()) {
      summed = meta.math.log(summed);
    }
    metaLoss = meta.withName("meta_loss").reduceSum(summed, meta.constant(0));

    carryOp = buildCarry(tf.withSubScope("carry"), thetaT, stateT, List.of((Op) losses));

    if (options.metaLearningRate() > 0) {
      if (ruleGraph.metaParams().isEmpty()) {
        throw new IllegalArgumentException("rule " + rule.name() + " has nothing to meta-train");
      }
      Ops mo = tf.withSubScope("meta_optimizer");
      List<Operand<TFloat32>> grads = new ArrayList<>();
      for (Operand<?> g : mo.withSubScope("gradients").gradients(metaLoss,
          ruleGraph.metaParams())) {
        @SuppressWarnings("unchecked")
        Operand<TFloat32> gf = (Operand<TFloat32>) g;
        grads.add(gf);
      }
      metaGradients.addAll(grads);
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
      metaAdam = new MetaAdam(options.metaLearningRate());
      Op apply = metaAdam.apply(mo, grads, ruleGraph.metaParams(), ruleGraph.metaParamNames());
      // The carried values are written only after the meta-step has read everything it needs.
      trainOp = buildCarry(tf.withSubScope("carry_after_meta_step"), thetaT, stateT,
          List.of(apply, (Op) losses));
    }

    if (!ruleGraph.metaParams().isEmpty()) {
      Ops load = tf.withSubScope("load");
      List<Op> assigns = new ArrayList<>();
      List<Variable<TFloat32>> params = ruleGraph.metaParams();
      for (int i = 0; i < params.size(); i++) {
        Placeholder<TFloat32> in = load.withName("value" + i).placeholder(TFloat32.class,
            Placeholder.shape(params.get(i).shape()));
        loadInputs.add(in);
        assigns.add(load.assign(params.get(i), in));
      }
      loadOp = load.withControlDependencies(assigns).withName("load").noOp();
    }
    session = new Session(graph, sessionConfig(options.threads()));
  }

  private static long[] allAxes(Operand<?> x) {
    int rank = x.shape().numDimensions();
    long[] axes = new long[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return axes;
  }

  private Op buildCarry(Ops tf, Operand<TFloat32> thetaT, List<Operand<TFloat32>> stateT,
      List<Op> after) {
    Ops ordered = tf.withControlDependencies(after);
    List<Op> assigns = new ArrayList<>();
    assigns.add(ordered.assign(theta, thetaT));
    for (int i = 0; i < state.size(); i++) {
      assigns.add(ordered.assign(state.get(i), stateT.get(i)));
    }
    return tf.withControlDependencies(assigns).withName("done").noOp();
  }

  /** Splits the flat coordinate vector into the problem's parameter tensors. */
  private List<Operand<TFloat32>> splitParams(Ops tf, Operand<TFloat32> flat) {
    List<ParamSpec> specs = problem.params();
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

  private static ConfigProto sessionConfig(int threads) {
    ConfigProto.Builder config = ConfigProto.newBuilder();
    if (threads > 0) {
      config.setIntraOpParallelismThreads(threads).setInterOpParallelismThreads(threads);
    }
    return config.build();
  }

  /** Starts a new instance: theta = theta_0, optimizer state zero. */
  public void reset(Instance instance) {
    float[] init = instance.initialTheta();
    try (TFloat32 t = Tensors.floats(init, init.length)) {
      session.runner().feed(theta0, t).addTarget(resetOp).run();
    }
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
      if (learningRateOverride != null && ruleGraph.learningRate() != null) {
        TFloat32 lr = Tensors.scalar(learningRateOverride);
        owned.add(lr);
        runner.feed(ruleGraph.learningRate(), lr);
      }
      runner.fetch(losses).fetch(metaLoss);
      if (metaStep) {
        runner.fetch(metaGradientNorm).addTarget(trainOp);
      } else {
        runner.addTarget(carryOp);
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
        return new Result(l, ml, norm);
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
    return fetchWithFeeds(instance, unrollIndex, stepGradients);
  }

  /** What one unroll's steps computed, for histograms: gradients, updates, preprocessed inputs. */
  public record Probe(List<float[]> gradients, List<float[]> updates, List<float[]> inputs) {}

  /**
   * Runs one unroll from the current state without changing any variable and returns every
   * step's optimizee gradient, update g_t and preprocessed input (empty for baselines).
   */
  public Probe probe(Instance instance, int unrollIndex) {
    List<Operand<TFloat32>> fetches = new ArrayList<>(stepGradients);
    fetches.addAll(stepUpdates);
    fetches.addAll(stepInputs);
    List<float[]> all = fetchWithFeeds(instance, unrollIndex, fetches);
    int u = stepGradients.size();
    return new Probe(all.subList(0, u), all.subList(u, 2 * u), all.subList(2 * u, all.size()));
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

  /** Sets the learning rate of a hand-designed rule for following runs (null: the rule's own). */
  public void setLearningRate(Float learningRate) {
    this.learningRateOverride = learningRate;
  }

  /** The current values of the meta-parameters phi, in the rule's order. */
  public List<float[]> metaParamValues() {
    return fetchAll(ruleGraph.metaParams());
  }

  /** The meta-optimizer's slot values (Adam's m, v and step), in {@link MetaAdam#slots()} order. */
  public List<float[]> metaOptimizerValues() {
    return metaAdam == null ? List.of() : fetchAll(metaAdam.slots());
  }

  /** Current optimizee parameters theta (flat). */
  public float[] theta() {
    return fetchAll(List.of(theta)).get(0);
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
    List<Variable<TFloat32>> params = ruleGraph.metaParams();
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

  /** The rule's graph (meta-parameter names and shapes). */
  public RuleGraph ruleGraph() {
    return ruleGraph;
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

  /** The rule this unroll applies. */
  public UpdateRule rule() {
    return rule;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
