package org.l2l.optim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.l2l.io.OptimizerFile;
import org.l2l.rule.LearnedRule;
import org.l2l.rule.RuleGraph;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;

/**
 * A trained LSTM optimizer (Andrychowicz et al. 2016) as a TensorFlow Java framework {@link
 * Optimizer}: it trains any graph like {@code Adam} does, with {@link #minimize(Operand)} or
 * {@link #applyGradients(List, String)}.
 *
 * <pre>{@code
 * LearnedOptimizer optimizer = LearnedOptimizer.load(graph, Path.of("checkpoints/q"));
 * Op step = optimizer.minimize(loss);
 * session.run(step);   // one step: every variable v += m(dloss/dv, state_v)
 * }</pre>
 *
 * <p>Each variable is flattened to its n coordinates and updated exactly as the project's unroll
 * updates parameters: the gradient goes through the optimizer's preprocessing, the LSTM and the
 * output scale, and the result is added to the variable. The per-coordinate LSTM state of a
 * variable lives in one slot variable {@value #STATE_SLOT} of shape [n, 2 * layers * hidden] (row
 * i: coordinate i's {@code c_0, h_0, c_1, h_1, ...}, the layout of the exported SavedModel),
 * starting at zero; {@link #getSlot(Output, String)} returns it. The trained weights are graph
 * constants, so nothing trains them and a checkpoint of the model (session.save) holds only the
 * model and the LSTM states.
 *
 * <p>Only float32 variables with a fully known shape are supported. {@code minimize(loss)}
 * updates every variable that the loss depends on (the framework's own optimizers take every
 * variable of the graph and fail if one does not feed the loss; see {@link #computeGradients});
 * pass a chosen list to {@code applyGradients} to train fewer. Other variables are left alone
 * and get no slot. Slot and step ops are named under the
 * optimizer's scope ({@code LearnedOptimizer/<variable name with '/' as '.'>/...}), so variables
 * inside name scopes work.
 */
public final class LearnedOptimizer extends Optimizer {

  /** The default name and name scope. */
  public static final String DEFAULT_NAME = "LearnedOptimizer";
  /** Name of the slot holding a variable's LSTM state. */
  public static final String STATE_SLOT = "lstm_state";

  private final LearnedRule lstm;
  private final Ops scope;
  private final List<Operand<TFloat32>> weights;
  /** Per variable (by op name): its scope for slot and step ops, and its state slot. */
  private final Map<String, Ops> variableScopes = new HashMap<>();
  private final Map<String, Variable<TFloat32>> states = new LinkedHashMap<>();
  /** The gradients of the applyGradients call in progress: every update waits for all of them. */
  private List<Op> pendingGradients = List.of();

  /**
   * Builds the optimizer in {@code graph} from a loaded optimizer file.
   *
   * @param graph the graph to train
   * @param optimizer the trained optimizer ({@link OptimizerFile#read})
   */
  public LearnedOptimizer(Graph graph, OptimizerFile.Loaded optimizer) {
    this(graph, DEFAULT_NAME, optimizer);
  }

  /**
   * Builds the optimizer in {@code graph} with ops under the name scope {@code name} (made unique
   * if the graph already has ops under it).
   */
  public LearnedOptimizer(Graph graph, String name, OptimizerFile.Loaded optimizer) {
    this(graph, name, optimizer.single());
  }

  /**
   * Builds the optimizer in {@code graph} from one learned rule of an optimizer file (a file of a
   * run with several learned rules: {@code loaded.learned("lstm_conv")}).
   */
  public LearnedOptimizer(Graph graph, String name, OptimizerFile.TrainedRule rule) {
    super(graph, name);
    this.lstm = rule.rule();
    this.scope = Ops.create(graph).withSubScope(uniqueScope(graph, name));
    this.weights = List.copyOf(lstm.constants(scope, rule.values()));
  }

  /**
   * Loads a trained optimizer: a run folder ({@code checkpoints/NAME}: its best optimizer, else
   * its latest), an export folder or an {@code .l2lw} file.
   *
   * @throws org.l2l.io.FormatException if there is no optimizer or the file is corrupt
   */
  public static LearnedOptimizer load(Graph graph, Path path) {
    return new LearnedOptimizer(graph, OptimizerFile.read(OptimizerFile.resolve(path)));
  }

  /** The learned rule's settings (for the LSTM: layers, hidden size, preprocessing, scale). */
  public Record config() {
    return lstm.config();
  }

  /** The LSTM state slots created so far, by variable name, in creation order. */
  public Map<String, Variable<TFloat32>> stateSlots() {
    return java.util.Collections.unmodifiableMap(states);
  }

  @Override
  public String getOptimizerName() {
    return DEFAULT_NAME;
  }

  /**
   * The gradients of {@code loss} with respect to every variable it depends on.
   *
   * <p>The framework's version takes every variable of the graph and fails ("unreachable from
   * the output") as soon as one does not feed the loss, for instance another optimizer's slots
   * or this one's after a first {@code minimize}; this one follows the loss's inputs back to the
   * variables it reaches.
   *
   * @throws IllegalArgumentException if the loss depends on no variable
   */
  @Override
  public <T extends TType> List<GradAndVar<?>> computeGradients(Operand<?> loss) {
    java.util.Set<GraphOperation> upstream = new java.util.HashSet<>();
    java.util.ArrayDeque<GraphOperation> queue = new java.util.ArrayDeque<>();
    queue.add((GraphOperation) loss.op());
    while (!queue.isEmpty()) {
      GraphOperation op = queue.poll();
      if (upstream.add(op)) {
        for (Operand<?> in : op.inputs()) {
          queue.add((GraphOperation) in.op());
        }
      }
    }
    List<Output<?>> variables = new ArrayList<>();
    for (Iterator<GraphOperation> it = graph.operations(); it.hasNext(); ) {
      GraphOperation op = it.next();
      if (op.type().equals(VARIABLE_V2) && upstream.contains(op)) {
        variables.add(op.output(0));
      }
    }
    if (variables.isEmpty()) {
      throw new IllegalArgumentException("LearnedOptimizer: the loss " + loss.op().name()
          + " depends on no variable");
    }
    Output<?>[] gradients = graph.addGradients(loss.asOutput(),
        variables.toArray(new Output<?>[0]));
    List<GradAndVar<?>> pairs = new ArrayList<>();
    for (int i = 0; i < variables.size(); i++) {
      @SuppressWarnings("unchecked")
      Output<T> gradient = (Output<T>) gradients[i];
      @SuppressWarnings("unchecked")
      Output<T> variable = (Output<T>) variables.get(i);
      pairs.add(new GradAndVar<>(gradient, variable));
    }
    return pairs;
  }

  /**
   * Applies the learned rule to each (gradient, variable) pair that has a gradient.
   *
   * @throws IllegalArgumentException if such a variable is not float32 or its shape is not fully
   *     known
   */
  @Override
  public Op applyGradients(List<GradAndVar<? extends TType>> gradsAndVars, String name) {
    List<GradAndVar<? extends TType>> live = new ArrayList<>();
    List<Op> gradients = new ArrayList<>();
    for (GradAndVar<? extends TType> pair : gradsAndVars) {
      if (pair.getGradient().isClosed()) {
        continue; // the loss does not depend on this variable
      }
      Output<? extends TType> v = pair.getVariable();
      if (v.type() != TFloat32.class) {
        throw new IllegalArgumentException("LearnedOptimizer: variable " + v.op().name()
            + " is " + v.type().getSimpleName() + "; the learned optimizer runs in float32 only");
      }
      if (v.shape().isUnknown() || v.shape().hasUnknownDimension()) {
        throw new IllegalArgumentException("LearnedOptimizer: variable " + v.op().name()
            + " has shape " + v.shape() + "; its shape must be fully known");
      }
      live.add(pair);
      gradients.add(pair.getGradient());
    }
    pendingGradients = gradients;
    try {
      return super.applyGradients(live, name);
    } finally {
      pendingGradients = List.of();
    }
  }

  @Override
  protected void createSlots(List<Output<? extends TType>> variables) {
    for (Output<? extends TType> v : variables) {
      String key = v.op().name();
      if (states.containsKey(key)) {
        continue; // a second minimize on the same variable shares its state
      }
      Ops vs = scope.withSubScope(scopeName(key));
      long n = v.shape().size();
      Ops init = vs.withInitScope();
      Variable<TFloat32> slot = init.withName(STATE_SLOT)
          .variable(Shape.of(n, lstm.packedStateWidth()), TFloat32.class);
      init.assign(slot, init.zeros(init.constant(new long[] {n, lstm.packedStateWidth()}),
          TFloat32.class));
      variableScopes.put(key, vs);
      states.put(key, slot);
    }
  }

  @Override
  protected <T extends TType> Op applyDense(Ops deps, Output<T> gradient, Output<T> variable) {
    String key = variable.op().name();
    @SuppressWarnings("unchecked")
    Output<TFloat32> grad = (Output<TFloat32>) gradient;
    @SuppressWarnings("unchecked")
    Output<TFloat32> var = (Output<TFloat32>) variable;
    Variable<TFloat32> slot = states.get(key);
    // Same ordering as the framework's own optimizers: no variable changes before every
    // gradient of this step has been computed.
    Ops tf = variableScopes.get(key).withControlDependencies(pendingGradients);
    Ops step = tf.withSubScope("step");
    Operand<TFloat32> flat = step.reshape(grad, step.constant(new long[] {-1}));
    RuleGraph.Step s = lstm.step(step, weights, flat, lstm.unpackState(step, slot));
    Op stateUpdate = tf.withName("update_state").assign(slot, lstm.packState(step, s.state()));
    Op variableUpdate = tf.withName("update_variable").assignAdd(var,
        step.reshape(s.update(), step.constant(var.shape().asArray())));
    return tf.withControlDependencies(List.of(stateUpdate, variableUpdate)).withName("apply")
        .noOp();
  }

  /** The LSTM state slot ({@value #STATE_SLOT}) of {@code var}, once minimize has created it. */
  @Override
  public <T extends TType> Optional<Variable<T>> getSlot(Output<T> var, String slotName) {
    if (!STATE_SLOT.equals(slotName)) {
      return Optional.empty();
    }
    @SuppressWarnings("unchecked")
    Variable<T> slot = (Variable<T>) states.get(var.op().name());
    return Optional.ofNullable(slot);
  }

  /** A name scope for {@code opName}'s ops: '/' (not allowed in a scope name) becomes '.'. */
  static String scopeName(String opName) {
    String s = opName.replace('/', '.').replaceAll("[^A-Za-z0-9_.\\-]", "_");
    return s.matches("[A-Za-z0-9.].*") ? s : "v" + s;
  }

  /** {@code base}, or base_1, base_2, ...: the first that no op of the graph uses as name or scope. */
  private static String uniqueScope(Graph graph, String base) {
    java.util.Set<String> taken = new java.util.HashSet<>();
    for (Iterator<GraphOperation> it = graph.operations(); it.hasNext(); ) {
      String name = it.next().name();
      int slash = name.indexOf('/');
      taken.add(slash < 0 ? name : name.substring(0, slash));
    }
    String candidate = base;
    for (int i = 1; taken.contains(candidate); i++) {
      candidate = base + "_" + i;
    }
    return candidate;
  }
}
