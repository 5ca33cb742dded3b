package org.l2l.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.HistogramProto;

class EventFilesTest {

  @TempDir Path dir;

  @Test
  void scalarsAndHistogramsRoundTrip() {
    Path run = dir.resolve("runs/a"); // created on demand
    double before = System.currentTimeMillis() / 1000.0;
    Path file;
    try (EventWriter w = new EventWriter(run)) {
      file = w.file();
      for (int step = 0; step < 5; step++) {
        w.scalar("loss", step, 1.0 / (step + 1));
      }
      w.scalar("lr", 4, 0.125);
      w.histogram("weights", 3, new float[] {1f, 2f, 3f});
      w.histogram("weights", 4, new float[] {-0.5f, 0.25f});
    }
    assertTrue(
        file.getFileName()
            .toString()
            .matches("events\\.out\\.tfevents\\.\\d{10}\\.[A-Za-z0-9._-]+"),
        file.getFileName().toString());
    assertEquals(run, file.getParent());

    List<Event> events = EventReader.read(run);
    assertEquals(1 + 5 + 1 + 2, events.size());
    assertEquals("brain.Event:2", events.get(0).getFileVersion());
    for (Event e : events) {
      assertTrue(
          e.getWallTime() >= before - 1 && e.getWallTime() <= before + 600, "wall time in seconds");
    }
    List<double[]> loss = EventReader.scalars(run, "loss");
    assertEquals(5, loss.size());
    for (int step = 0; step < 5; step++) {
      assertEquals(step, loss.get(step)[0]);
      assertEquals((float) (1.0 / (step + 1)), loss.get(step)[1]); // stored as float
    }
    assertArrayEquals(new double[] {4, 0.125}, EventReader.scalars(run, "lr").get(0));
    assertTrue(EventReader.scalars(run, "missing").isEmpty());

    HistogramProto h = events.get(7).getSummary().getValue(0).getHisto();
    assertEquals("weights", events.get(7).getSummary().getValue(0).getTag());
    assertEquals(3, events.get(7).getStep());
    assertEquals(Histograms.of(new float[] {1f, 2f, 3f}), h);
    assertEquals(1.0, h.getMin());
    assertEquals(3.0, h.getMax());
    assertEquals(3.0, h.getNum());
    assertEquals(6.0, h.getSum());
    assertEquals(14.0, h.getSumSquares());
  }

  @Test
  void summarizeCountsTagsAndLastValues() {
    try (EventWriter w = new EventWriter(dir)) {
      w.scalar("b/loss", 1, 3.0);
      w.scalar("b/loss", 2, 2.5);
      w.histogram("a/grad", 7, new float[] {1f});
      w.writeGraph(new byte[0]); // an empty GraphDef is still a graph event
      w.scalar("b/loss", 9, 0.75);
    }
    List<TagSummary> s = EventReader.summarize(dir);
    assertEquals(3, s.size());
    assertEquals(new TagSummary("(graph)", TagSummary.Kind.GRAPH, 1, 0, Double.NaN), s.get(0));
    assertEquals(new TagSummary("a/grad", TagSummary.Kind.HISTOGRAM, 1, 7, Double.NaN), s.get(1));
    assertEquals(new TagSummary("b/loss", TagSummary.Kind.SCALAR, 3, 9, 0.75), s.get(2));
    assertEquals("histogram", s.get(1).kind().toString());
    assertTrue(EventReader.hasGraph(dir));
    assertEquals(0, EventReader.graph(dir).orElseThrow().getNodeCount());
  }

  @Test
  void flushMakesRecordsVisibleWhileOpen() {
    try (EventWriter w = new EventWriter(dir)) {
      assertEquals(1, EventReader.read(dir).size(), "version record is flushed at once");
      w.scalar("x", 1, 1);
      w.flush();
      assertEquals(2, EventReader.read(w.file()).size());
      assertFalse(EventReader.hasGraph(dir));
      assertTrue(EventReader.graph(dir).isEmpty());
    }
  }

  @Test
  void folderFilesAreReadInNameOrderAndWritersDoNotCollide() throws Exception {
    try (EventWriter first = new EventWriter(dir);
        EventWriter second = new EventWriter(dir)) {
      assertNotEquals(first.file(), second.file());
      first.scalar("t", 1, 10);
      second.scalar("t", 2, 20);
    }
    Files.writeString(dir.resolve("notes.txt"), "not an event file");
    List<Path> files = EventReader.eventFiles(dir);
    assertEquals(2, files.size());
    assertTrue(
        files.get(0).getFileName().toString().compareTo(files.get(1).getFileName().toString()) < 0);
    assertEquals(2, EventReader.scalars(dir, "t").size());
    assertEquals(2, EventReader.summarize(dir).get(0).count());
  }

  @Test
  void corruptionInFolderNamesFileAndRecord() throws Exception {
    Path file;
    try (EventWriter w = new EventWriter(dir)) {
      file = w.file();
      w.scalar("loss", 1, 0.5);
    }
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 6] ^= (byte) 0x80; // inside the data of the last record
    Files.write(file, bytes);
    EventFileException e = assertThrows(EventFileException.class, () -> EventReader.summarize(dir));
    assertTrue(e.getMessage().startsWith(file + ": record 1 "), e.getMessage());
    assertTrue(e.getMessage().contains("data checksum mismatch"), e.getMessage());

    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
    e = assertThrows(EventFileException.class, () -> EventReader.read(file));
    assertTrue(
        e.getMessage().contains("record 1 ") && e.getMessage().contains("truncated"),
        e.getMessage());
  }

  @Test
  void nonEventRecordIsReported() throws Exception {
    Path file = dir.resolve("events.out.tfevents.1.junk");
    Files.write(file, RecordFiles.frame(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}));
    EventFileException e = assertThrows(EventFileException.class, () -> EventReader.read(dir));
    assertTrue(
        e.getMessage().startsWith(file + ": record 0 is not a TensorBoard event"), e.getMessage());
  }

  @Test
  void missingOrEmptyFoldersAreReported() throws Exception {
    Path missing = dir.resolve("nothing");
    EventFileException e =
        assertThrows(EventFileException.class, () -> EventReader.summarize(missing));
    assertEquals(missing + ": no such file or folder", e.getMessage());
    Files.createDirectories(dir.resolve("train"));
    e = assertThrows(EventFileException.class, () -> EventReader.read(dir));
    assertTrue(e.getMessage().contains("no TensorBoard event files"), e.getMessage());
    assertTrue(e.getMessage().contains("subfolders train"), e.getMessage());
  }

  @Test
  void logFolderThatIsAFileIsReported() throws Exception {
    Path notAFolder = Files.writeString(dir.resolve("plain"), "x");
    EventFileException e = assertThrows(EventFileException.class, () -> new EventWriter(notAFolder));
    assertEquals(notAFolder + ": exists but is not a folder", e.getMessage());
  }

  @Test
  void closedWriterRefusesWrites() {
    EventWriter w = new EventWriter(dir);
    w.close();
    w.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> w.scalar("x", 0, 0));
  }
}
