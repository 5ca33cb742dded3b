package org.l2l.cli;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.l2l.UserError;
import org.l2l.config.Json;
import org.l2l.io.AtomicFiles;
import org.l2l.repro.Plan;
import org.l2l.repro.Reproduction;
import org.l2l.repro.Runner;
import org.l2l.repro.Scale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code l2l reproduce}: the paper's experiments and the studies, and a report of them. */
@Command(name = "reproduce", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Run the paper's experiments (quadratics, MNIST, its generalisation tests, "
        + "the conv net) with tuned baselines over several test seeds, and the studies "
        + "(break-even, meta-optimizer, forget-bias, horizon); write OUT/README.md with "
        + "figures, tables, confidence intervals and the exact commands.",
        "Each finished step is kept under OUT/steps: run the same command again after a stop "
            + "and it continues where it stopped (a stopped meta-training resumes from its "
            + "checkpoint). Progress with an ETA goes to standard error."})
final class ReproduceCommand implements Callable<Integer> {

  @Option(names = "--scale", paramLabel = "S", defaultValue = "quick",
      description = "quick: under 20 minutes on 2 cores, using the shipped pretrained MNIST and "
          + "conv optimizers and quadratic-only studies; paper: the paper's sizes, everything "
          + "meta-trained (hours) (default: ${DEFAULT-VALUE}).")
  String scale;

  @Option(names = "--only", paramLabel = "NAME,...", split = ",",
      description = "Run only these experiments (and the steps they need), from: quadratic, "
          + "mnist, generalisation, conv, break-even, meta-optimizer, forget-bias, horizon.")
  List<String> only = new ArrayList<>();

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "report",
      description = "Output folder: README.md, figures/, results.csv, steps/ (default: "
          + "${DEFAULT-VALUE}).")
  Path out;

  /** For tests: stop after this many newly finished steps, as a Ctrl-C would. */
  @Option(names = "--stop-after-steps", hidden = true)
  Integer stopAfterSteps;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (!Scale.NAMES.contains(scale) && !scale.equals("tiny")) {
      throw UserError.flag("--scale", scale, "unknown; allowed: " + String.join(", ",
          Scale.NAMES));
    }
    Plan plan = new Plan(Scale.of(scale));
    List<Plan.Experiment> chosen = plan.select(only);
    Folders.checkWritable(out, "--out");
    Files.createDirectories(out);
    Path marker = out.resolve("reproduce.json");
    if (Files.isRegularFile(marker)) {
      JsonObject o = Reproduction.readJson(marker);
      if (!o.get("scale").getAsString().equals(scale)) {
        throw UserError.flag("--out", out, "holds a reproduction at --scale "
            + o.get("scale").getAsString() + "; use another --out for --scale " + scale);
      }
    } else {
      JsonObject o = new JsonObject();
      o.addProperty("scale", scale);
      AtomicFiles.writeString(marker, Json.text(o));
    }
    PrintWriter err = spec.commandLine().getErr();
    Runner runner = new Runner(out, args -> Main.execute(err, args), err);
    List<String> line = new ArrayList<>(List.of("reproduce", "--scale", scale));
    if (!only.isEmpty()) {
      line.addAll(List.of("--only", String.join(",", only)));
    }
    line.addAll(List.of("--out", "OUT"));
    Path readme = Reproduction.run(plan, chosen, runner, out, line, stopAfterSteps);
    if (readme == null) {
      err.println("reproduce: stopped; run the same command again to continue (finished steps "
          + "are kept in " + out.resolve(Runner.STEPS) + ")");
      err.flush();
      return 0;
    }
    System.out.println("wrote " + readme);
    return 0;
  }
}
