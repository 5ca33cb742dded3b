package org.l2l.cli;

import org.l2l.config.Check;

import org.l2l.UserError;

import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.l2l.io.AtomicFiles;
import org.l2l.io.tensorboard.EventWriter;
import org.l2l.io.tensorboard.GraphPicture;
import org.l2l.meta.Figure2;
import org.l2l.meta.MetaAdam;
import org.l2l.meta.Unroll;
import org.l2l.problem.Problem;
import org.l2l.meta.ProblemConfig;
import org.l2l.rule.RuleMap;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import org.tensorflow.proto.GraphDef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code l2l graph}: writes the meta-training graph (the paper's Figure 2) without training. */
@Command(name = "graph", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Build the meta-training graph without training and write it to graphs/NAME/:",
        "graph.pb (GraphDef), graph.pbtxt (text), an event file for TensorBoard, and graph.svg "
            + "(the top-level structure: optimizee, optimizer, meta-optimizer as boxes).",
        "--preset blog: the reduced system of the text this project grew from (1-layer LSTM of "
            + "19 units, polynomial with 7 coefficients, 5 steps, Adam meta-optimizer)."})
final class GraphCommand implements Callable<Integer> {

  /** The blog's LSTM state size. */
  static final int BLOG_HIDDEN = 19;
  /** The blog's number of steps. */
  static final int BLOG_STEPS = 5;

  @Mixin ProblemMixin problem;

  @Option(names = "--preset", paramLabel = "NAME",
      description = "blog: the reduced system (overrides problem and LSTM flags).")
  String preset;

  @Option(names = "--unroll-length", paramLabel = "N", defaultValue = "20",
      description = "Steps in the unrolled graph (default: ${DEFAULT-VALUE}).")
  int unrollLength;

  @Option(names = "--name", paramLabel = "NAME",
      description = "Output folder name under --graphs-dir (default: the preset or problem).")
  String name;

  @Option(names = "--graphs-dir", paramLabel = "DIR", defaultValue = "graphs",
      description = "Folder of the graphs (default: ${DEFAULT-VALUE}).")
  Path graphsDir;

  @Override
  public Integer call() throws IOException {
    ProblemConfig problemConfig;
    CoordinatewiseLstm.Config config;
    RuleMap rules = RuleMap.DEFAULT;
    int length;
    if (preset != null) {
      Check.oneOf("--preset", preset, java.util.List.of("blog"));
      problemConfig = ProblemConfig.defaults("polynomial");
      config = new CoordinatewiseLstm.Config(1, BLOG_HIDDEN,
          CoordinatewiseLstm.FORGET_BIAS_DEFAULT, CoordinatewiseLstm.OUTPUT_SCALE_DEFAULT,
          Preprocessing.NONE, Preprocessing.P_PAPER);
      length = BLOG_STEPS;
    } else {
      problemConfig = problem.config();
      config = problem.lstm();
      rules = problem.rules();
      length = Check.positive("--unroll-length", unrollLength);
    }
    String folder = name != null ? name : preset != null ? preset : problemConfig.name();
    Check.simpleName("--name", folder);
    Path dir = graphsDir.resolve(folder);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw UserError.flag("--graphs-dir", graphsDir, "cannot create " + dir + " ("
          + e.getMessage() + ")");
    }
    Problem p = problemConfig.create();
    GraphDef graph;
    CoordinatewiseLstm.Config lstm = config;
    try (Unroll u = new Unroll(p, rules.bind(p.params(), scope -> new CoordinatewiseLstm(lstm,
        CoordinatewiseLstm.Kernel.STOCK, scope), "problem " + p.name()), new Unroll.Options(length,
        false, false, MetaAdam.LEARNING_RATE_DEFAULT, 0, 1, 0))) {
      graph = u.graph().toGraphDef();
    }
    AtomicFiles.writeBytes(dir.resolve("graph.pb"), graph.toByteArray());
    AtomicFiles.writeString(dir.resolve("graph.pbtxt"), TextFormat.printer().printToString(graph));
    try (EventWriter events = new EventWriter(dir)) {
      events.writeGraph(graph);
    }
    GraphPicture.write(Figure2.regroup(graph), dir.resolve("graph.svg"), Figure2::category,
        false);
    System.out.printf(Locale.ROOT, "%s on %s, %d steps, LSTM %dx%d: %d nodes%nwrote %s, %s, "
            + "%s and an event file (tensorboard --logdir %s)%n", "l2l", p.name(), length,
        config.layers(), config.hiddenSize(), graph.getNodeCount(), dir.resolve("graph.pb"),
        dir.resolve("graph.pbtxt"), dir.resolve("graph.svg"), dir);
    return 0;
  }
}
