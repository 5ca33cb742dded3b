package org.l2l.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

  @TempDir Path dir;

  private static List<String> names(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void writeReplacesExistingFileAndLeavesNoTemp() throws IOException {
    Path file = dir.resolve("a/b/metrics.json");
    AtomicFiles.writeString(file, "old content that is longer");
    AtomicFiles.writeString(file, "new");
    assertEquals("new", Files.readString(file));
    assertEquals(List.of("metrics.json"), names(file.getParent()));
  }

  @Test
  void writerMayCloseItsStream() throws IOException {
    Path file = dir.resolve("w.txt");
    AtomicFiles.write(file, out -> {
      try (Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8)) {
        w.write("héllo");
      }
    });
    assertEquals("héllo", Files.readString(file));
  }

  @Test
  void failingWriterLeavesOldFileAndNoTemp() throws IOException {
    Path file = dir.resolve("keep.txt");
    AtomicFiles.writeString(file, "original");
    IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(file, out -> {
      out.write("partial".getBytes(StandardCharsets.UTF_8));
      throw new IOException("disk full");
    }));
    assertEquals("disk full", e.getMessage());
    assertEquals("original", Files.readString(file));
    assertEquals(List.of("keep.txt"), names(dir));
  }

  @Test
  void replaceDirectorySwapsContents() throws IOException {
    Path target = dir.resolve("checkpoints/best");
    AtomicFiles.replaceDirectory(target, d -> Files.writeString(d.resolve("a.txt"), "A"));
    assertEquals(List.of("a.txt"), names(target));

    AtomicFiles.replaceDirectory(target, d -> {
      Files.writeString(d.resolve("b.txt"), "B");
      Files.createDirectories(d.resolve("sub"));
      Files.writeString(d.resolve("sub/c.txt"), "C");
    });
    assertEquals(List.of("b.txt", "sub"), names(target));
    assertEquals("C", Files.readString(target.resolve("sub/c.txt")));
    // Neither the .old sibling nor the temporary folder survives.
    assertEquals(List.of("best"), names(target.getParent()));
  }

  @Test
  void failingFillerLeavesOldDirectory() throws IOException {
    Path target = dir.resolve("ckpt");
    AtomicFiles.replaceDirectory(target, d -> Files.writeString(d.resolve("a.txt"), "A"));
    assertThrows(IOException.class, () -> AtomicFiles.replaceDirectory(target, d -> {
      Files.writeString(d.resolve("half.txt"), "x");
      throw new IOException("killed");
    }));
    assertEquals(List.of("a.txt"), names(target));
    assertEquals(List.of("ckpt"), names(dir));
  }

  @Test
  void recoverRestoresTargetLeftMissing() throws IOException {
    // The state a crash between the two renames of replaceDirectory leaves behind.
    Path target = dir.resolve("best");
    Path old = dir.resolve("best.old");
    Files.createDirectories(old);
    Files.writeString(old.resolve("optimizer.l2lw"), "weights");

    assertTrue(AtomicFiles.recover(target));
    assertEquals("weights", Files.readString(target.resolve("optimizer.l2lw")));
    assertFalse(Files.exists(old));
    assertFalse(AtomicFiles.recover(target), "nothing left to recover");
  }

  @Test
  void recoverDropsStaleOldWhenTargetExists() throws IOException {
    Path target = dir.resolve("best");
    Files.createDirectories(target);
    Files.writeString(target.resolve("new.txt"), "new");
    Files.createDirectories(dir.resolve("best.old"));
    assertFalse(AtomicFiles.recover(target));
    assertEquals(List.of("best"), names(dir));
    assertEquals("new", Files.readString(target.resolve("new.txt")));
  }

  @Test
  void temporaryNamesAreRecognisable() {
    assertTrue(AtomicFiles.isTemporary(Path.of("x/.best.1a2b.tmp")));
    assertFalse(AtomicFiles.isTemporary(Path.of("x/best")));
    assertFalse(AtomicFiles.isTemporary(Path.of("x/.hidden")));
  }
}
