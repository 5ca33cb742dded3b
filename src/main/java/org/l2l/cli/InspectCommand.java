package org.l2l.cli;

import org.l2l.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.l2l.io.tensorboard.EventFileException;
import org.l2l.io.tensorboard.EventReader;
import org.l2l.io.tensorboard.TagSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code l2l inspect}: what a TensorBoard folder holds, read with the project's own reader. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = {"List the tags of a TensorBoard folder's event files: kind, count, last step "
        + "and last value. Every record's CRCs are checked; a folder of runs lists each run."})
final class InspectCommand implements Callable<Integer> {

  @Parameters(paramLabel = "DIR", description = "A run folder, e.g. tensorboard/q.")
  Path dir;

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw UserError.flag("inspect", dir, "no such folder");
    }
    List<Path> runs = new ArrayList<>();
    if (hasEvents(dir)) {
      runs.add(dir);
    } else {
      try (Stream<Path> children = Files.list(dir)) {
        children.filter(Files::isDirectory).filter(InspectCommand::hasEvents).sorted()
            .forEach(runs::add);
      }
    }
    if (runs.isEmpty()) {
      throw UserError.flag("inspect", dir, "holds no event files (events.out.tfevents.*)");
    }
    for (Path run : runs) {
      List<TagSummary> tags;
      try {
        tags = EventReader.summarize(run);
      } catch (EventFileException e) {
        throw new UserError(e.getMessage());
      }
      System.out.printf(Locale.ROOT, "%s (%d event files, CRCs checked)%n", run,
          EventReader.eventFiles(run).size());
      System.out.printf(Locale.ROOT, "  %-28s %-10s %7s %10s %14s%n", "tag", "kind", "count",
          "last step", "last value");
      for (TagSummary t : tags) {
        String value = t.kind() == TagSummary.Kind.SCALAR
            ? String.format(Locale.ROOT, "%14.6g", t.lastValue()) : String.format("%14s", "-");
        System.out.printf(Locale.ROOT, "  %-28s %-10s %7d %10d %s%n", t.tag(), t.kind(),
            t.count(), t.lastStep(), value);
      }
    }
    return 0;
  }

  private static boolean hasEvents(Path d) {
    try (Stream<Path> files = Files.list(d)) {
      return files.anyMatch(f -> f.getFileName().toString().startsWith("events.out.tfevents"));
    } catch (IOException e) {
      return false;
    }
  }
}
