package org.l2l.export;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.l2l.io.AtomicFiles;
import org.l2l.io.OptimizerFile;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.LearnedRule;
import org.l2l.rule.RuleGraph;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Exports a trained LSTM optimizer so that it can leave the project: a TensorFlow SavedModel of
 * its update rule, usable from any TensorFlow runtime, plus its weights in the project's
 * {@code .l2lw} format and a README describing both.
 *
 * <h2>The SavedModel's signature ({@code serving_default}, tag {@code serve})</h2>
 *
 * <pre>
 * inputs   gradient   float32 [n]       the gradient of n coordinates (n any, also 1)
 *          state      float32 [n, S]    the LSTM state, zeros at the first step
 * outputs  update     float32 [n]       the step to add: theta_next = theta + update
 *          new_state  float32 [n, S]    the state to feed at the next step
 * </pre>
 *
 * <p>S = 2 * layers * hidden: row i holds coordinate i's {@code c_0, h_0, c_1, h_1, ...}, each
 * {@code hidden} wide ({@link CoordinatewiseLstm#packState}). The weights are constants of the
 * graph ({@link CoordinatewiseLstm#constants}), so the model has no variables to restore. The preprocessing and output scale are part
 * of the graph: feed the raw gradient.
 */
public final class OptimizerExport {

  /** Signature input: the gradient vector. */
  public static final String GRADIENT = "gradient";
  /** Signature input: the packed LSTM state. */
  public static final String STATE = "state";
  /** Signature output: the update to add to the parameters. */
  public static final String UPDATE = "update";
  /** Signature output: the packed LSTM state after the step. */
  public static final String NEW_STATE = "new_state";
  /** Method name of the signature (TensorFlow Serving's predict API). */
  public static final String METHOD_NAME = "tensorflow/serving/predict";
  /** File name of the description written next to the SavedModel. */
  public static final String README = "README.md";

  private OptimizerExport() {}

  /**
   * The update rule as a graph with placeholders {@link #GRADIENT} and {@link #STATE} and
   * outputs {@link #UPDATE} and {@link #NEW_STATE}, the weights as constants.
   */
  public record UpdateGraph(Graph graph, Placeholder<TFloat32> gradient,
      Placeholder<TFloat32> state, Operand<TFloat32> update, Operand<TFloat32> newState)
      implements AutoCloseable {

    /** The signature that names this graph's inputs and outputs. */
    public Signature signature() {
      return Signature.builder().key(Signature.DEFAULT_KEY).methodName(METHOD_NAME)
          .input(GRADIENT, gradient).input(STATE, state)
          .output(UPDATE, update).output(NEW_STATE, newState).build();
    }

    @Override
    public void close() {
      graph.close();
    }
  }

  /** Builds the update graph of a one-rule {@code optimizer} in a new graph. */
  public static UpdateGraph buildGraph(OptimizerFile.Loaded optimizer) {
    return buildGraph(optimizer.single());
  }

  /** Builds the update graph of the learned rule {@code trained} in a new graph. */
  public static UpdateGraph buildGraph(OptimizerFile.TrainedRule trained) {
    LearnedRule lstm = trained.rule();
    Graph graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      List<Operand<TFloat32>> weights = lstm.constants(tf, trained.values());
      Placeholder<TFloat32> gradient = tf.withName(GRADIENT).placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1)));
      Placeholder<TFloat32> state = tf.withName(STATE).placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, lstm.packedStateWidth())));
      Ops step = tf.withSubScope("step");
      RuleGraph.Step s = lstm.step(step, weights, gradient, lstm.unpackState(step, state));
      Operand<TFloat32> update = tf.withName(UPDATE).identity(s.update());
      Operand<TFloat32> newState = tf.withName(NEW_STATE).identity(lstm.packState(step,
          s.state()));
      return new UpdateGraph(graph, gradient, state, update, newState);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** Writes the SavedModel of a one-rule {@code optimizer} into the empty folder {@code dir}. */
  public static void writeSavedModel(OptimizerFile.Loaded optimizer, Path dir)
      throws IOException {
    writeSavedModel(optimizer.single(), dir);
  }

  /** Writes the SavedModel of {@code trained} into the existing empty folder {@code dir}. */
  public static void writeSavedModel(OptimizerFile.TrainedRule trained, Path dir)
      throws IOException {
    try (UpdateGraph g = buildGraph(trained); Session session = new Session(g.graph())) {
      SavedModelBundle.exporter(dir.toString()).withSession(session)
          .withSignature(g.signature()).export();
    }
  }

  /**
   * Writes the whole export into {@code out}, atomically: the folder is built as a temporary
   * sibling and renamed into place, replacing any previous {@code out}. One learned rule: its
   * SavedModel in {@code out}. Several (a run with {@code --rules}): one SavedModel per rule in
   * {@code out/SCOPE/}, each with its README, and a README in {@code out} that says which
   * parameter groups each rule updates.
   *
   * @param optimizer the loaded optimizer
   * @param source the {@code .l2lw} file it was read from, copied byte for byte
   */
  public static void export(OptimizerFile.Loaded optimizer, Path source, Path out)
      throws IOException {
    byte[] weights = Files.readAllBytes(source);
    AtomicFiles.replaceDirectory(out, dir -> {
      if (optimizer.learned().size() == 1) {
        writeSavedModel(optimizer.single(), dir);
        Files.writeString(dir.resolve(README), readme(optimizer.single(), optimizer, source));
      } else {
        StringBuilder index = new StringBuilder("# Trained learned optimizers (l2l export)\n\n"
            + "Exported from `" + source + "`: a run with several learned rules (`--rules "
            + optimizer.rules().flag() + "`). Each folder holds one rule's SavedModel and a "
            + "README with its signature; feed each the gradient of the parameters of its "
            + "groups. `optimizer.l2lw` holds every rule's weights.\n\n");
        for (OptimizerFile.TrainedRule r : optimizer.learned()) {
          Path sub = dir.resolve(r.scope());
          Files.createDirectories(sub);
          writeSavedModel(r, sub);
          Files.writeString(sub.resolve(README), readme(r, optimizer, source));
          List<String> groups = new java.util.ArrayList<>();
          optimizer.rules().assignments().forEach((g, spec) -> {
            var parsed = org.l2l.rule.RuleMap.parseSpec(g, spec);
            if (parsed.isLearned() && org.l2l.rule.RuleMap.scopeOf(parsed.learned())
                .equals(r.scope())) {
              groups.add(g);
            }
          });
          index.append("- `").append(r.scope()).append("/`: groups ")
              .append(groups.isEmpty() ? "not named in --rules" : String.join(", ", groups))
              .append("\n");
        }
        Files.writeString(dir.resolve(README), index.toString());
      }
      Files.write(dir.resolve(OptimizerFile.FILE_NAME), weights);
    });
  }

  /** The README written next to a SavedModel, with this rule's sizes filled in. */
  static String readme(OptimizerFile.TrainedRule trained, OptimizerFile.Loaded optimizer,
      Path source) {
    CoordinatewiseLstm rule = (CoordinatewiseLstm) trained.rule();
    boolean several = optimizer.learned().size() > 1;
    CoordinatewiseLstm.Config c = rule.config();
    int width = rule.packedStateWidth();
    String metadata = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
        .create().toJson(optimizer.metadata() == null ? new JsonObject() : optimizer.metadata());
    StringBuilder layout = new StringBuilder();
    for (int l = 0; l < c.layers(); l++) {
      layout.append(l == 0 ? "" : ", ")
          .append(String.format(Locale.ROOT, "c_%d = columns %d..%d, h_%d = columns %d..%d", l,
              2 * l * c.hiddenSize(), (2 * l + 1) * c.hiddenSize() - 1, l,
              (2 * l + 1) * c.hiddenSize(), (2 * l + 2) * c.hiddenSize() - 1));
    }
    return String.format(Locale.ROOT, """
        # A trained learned optimizer (l2l export)

        Exported from `%s`: a coordinatewise LSTM optimizer (Andrychowicz et al. 2016) with
        %d layer(s) of %d units, forget bias %s, output scale %s, preprocessing `%s` (p = %s).%s

        ## Files

        - `saved_model.pb` (and an empty `variables/`): a TensorFlow SavedModel (tag `serve`) of
          one step of the update rule. The weights are constants inside the graph (each
          behind a PlaceholderWithDefault; feed only the signature's inputs).
        - `%soptimizer.l2lw`: the weights in the l2l weights format (magic `L2LW`, uint32
          version 2 (1 for older files), uint32 header length N, N bytes of JSON header, then
          little-endian float32 data; see the project's docs/formats.md, section "The `.l2lw`
          weights format").
        - `README.md`: this file.

        ## Signature `serving_default` (method `%s`)

        | | name | dtype | shape | meaning |
        |---|---|---|---|---|
        | input | `%s` | float32 | [n] | the gradient, flattened; n is any number of coordinates |
        | input | `%s` | float32 | [n, %d] | the LSTM state; zeros at the first step |
        | output | `%s` | float32 | [n] | the step: parameters_next = parameters + update |
        | output | `%s` | float32 | [n, %d] | the state to feed at the next step |

        Every coordinate is independent: row i of the state belongs to coordinate i, laid out as
        %s. Preprocessing and output scale are inside the graph: feed the raw gradient.

        Python (TensorFlow 2):

        ```python
        import tensorflow as tf
        step = tf.saved_model.load("EXPORT_DIR").signatures["serving_default"]
        state = tf.zeros([n, %d])
        for _ in range(steps):
            out = step(gradient=tf.reshape(grad_of(theta), [-1]), state=state)
            theta = theta + tf.reshape(out["update"], theta.shape)
            state = out["new_state"]
        ```

        Java: `SavedModelBundle.load("EXPORT_DIR").function("serving_default")
        .call(Map.of("gradient", g, "state", s))`, or use `org.l2l.optim.LearnedOptimizer` on
        `optimizer.l2lw` to train a TensorFlow Java graph directly.

        ## Metadata of the trained optimizer

        ```json
        %s
        ```
        """, source, c.layers(), c.hiddenSize(), c.forgetBias(), c.outputScale(),
        c.preprocessing().flag(), c.preprocessP(), several ? "\n\nThis is the learned rule `"
            + trained.scope() + "` of a run with several (`--rules " + optimizer.rules().flag()
            + "`): feed it the gradient of the parameters of its groups only." : "",
        several ? "../" : "", METHOD_NAME, GRADIENT, STATE, width, UPDATE,
        NEW_STATE, width, layout, width, metadata);
  }
}
