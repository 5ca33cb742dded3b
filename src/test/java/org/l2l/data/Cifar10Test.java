package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Cifar10Test {

    @TempDir
    Path dir;

    /** Index of pixel (n, y, x, c) in NHWC. */
    private static int nhwc(int n, int y, int x, int c) {
        return ((n * 32 + y) * 32 + x) * 3 + c;
    }

    /** Index of the byte of pixel (y, x) of channel c of record r in a batch file. */
    private static int planar(int r, int y, int x, int c) {
        return r * 3073 + 1 + c * 1024 + y * 32 + x;
    }

    /** A file of {@code records} records, all zero but the labels. */
    private static byte[] zeros(int... labels) {
        byte[] data = new byte[labels.length * 3073];
        for (int r = 0; r < labels.length; r++) {
            data[r * 3073] = (byte) labels[r];
        }
        return data;
    }

    @Test
    void planesBecomeInterleavedChannelsScaledBy255() throws IOException {
        CifarFiles.write(dir, 1, 1);
        byte[] first = zeros(3, 9);
        first[planar(0, 1, 2, 0)] = (byte) 255; // red at y=1, x=2 of image 0
        first[planar(0, 31, 0, 1)] = (byte) 128; // green at y=31, x=0
        first[planar(0, 0, 31, 2)] = (byte) 1; // blue at y=0, x=31
        first[planar(1, 5, 7, 2)] = (byte) 51; // blue at y=5, x=7 of image 1
        Files.write(dir.resolve("data_batch_1.bin"), first);

        ImageDataset cifar = Cifar10.load(dir);
        Images train = cifar.train();
        assertEquals("cifar10", cifar.name());
        assertEquals(6, train.count(), "2 records in the first file, 1 in each of four others");
        assertEquals(32, train.height());
        assertEquals(32, train.width());
        assertEquals(3, train.channels());
        assertEquals(3072, train.imageSize());
        assertEquals(6 * 3072, train.pixels().length);
        assertArrayEquals(new int[] {3, 9, 1, 2, 3, 4}, train.labels());
        float[] p = train.pixels();
        assertEquals(1f, p[nhwc(0, 1, 2, 0)]);
        assertEquals(128 / 255f, p[nhwc(0, 31, 0, 1)]);
        assertEquals(1 / 255f, p[nhwc(0, 0, 31, 2)]);
        assertEquals(0.2f, p[nhwc(1, 5, 7, 2)]);
        assertEquals(0f, p[nhwc(1, 5, 7, 1)]);
        assertEquals(0f, p[nhwc(0, 1, 2, 1)]);
        double sum = 0;
        for (int i = 0; i < 2 * 3072; i++) {
            sum += p[i];
        }
        assertEquals(1 + 128 / 255.0 + 1 / 255.0 + 0.2, sum, 1e-5, "no other pixel is set");
        assertEquals(1, cifar.test().count());
        assertArrayEquals(new int[] {0}, cifar.test().labels());
    }

    @Test
    void generatedFilesLoadRecordForRecordInFileOrder() {
        CifarFiles.write(dir, 4, 7);
        ImageDataset cifar = Cifar10.load(dir);
        assertEquals(20, cifar.train().count());
        assertEquals(4, cifar.test().count());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                cifar.train().labels());
        assertArrayEquals(new int[] {0, 1, 2, 3}, cifar.test().labels());
        // Image 13 is record 1 of data_batch_4.bin (file index 3).
        byte[] raw = CifarFiles.batch(3, 4, 7);
        for (int[] yxc : new int[][] {{0, 0, 0}, {0, 0, 2}, {17, 4, 1}, {31, 31, 2}, {9, 30, 0}}) {
            int b = raw[planar(1, yxc[0], yxc[1], yxc[2])] & 0xFF;
            assertEquals(b / 255f, cifar.train().pixels()[nhwc(13, yxc[0], yxc[1], yxc[2])],
                    Arrays.toString(yxc));
        }
        byte[] test = CifarFiles.batch(5, 4, 7);
        float[] image = cifar.test().image(3);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    assertEquals((test[planar(3, y, x, c)] & 0xFF) / 255f,
                            image[(y * 32 + x) * 3 + c]);
                }
            }
        }
    }

    @Test
    void filesInTheArchiveSubfolderAreFound() {
        CifarFiles.write(dir.resolve("cifar-10-batches-bin"), 2, 3);
        assertEquals(10, Cifar10.load(dir).train().count());
        assertEquals(List.of(), Cifar10.missing(dir));
        assertEquals(dir.resolve("cifar-10-batches-bin"), Cifar10.locate(dir));
    }

    @Test
    void truncatedFileIsNamed() throws IOException {
        CifarFiles.write(dir, 2, 3);
        Path file = dir.resolve("data_batch_3.bin");
        Files.write(file, Arrays.copyOf(Files.readAllBytes(file), 2 * 3073 - 100));
        DataException e = assertThrows(DataException.class, () -> Cifar10.load(dir));
        assertEquals(file + ": truncated or not a CIFAR-10 binary batch: 6046 bytes is not a"
                + " whole number of 3073-byte records (1 records and 2973 bytes; a standard file"
                + " has 10000 records, 30730000 bytes)", e.getMessage());
    }

    @Test
    void emptyFileIsNamed() throws IOException {
        CifarFiles.write(dir, 2, 3);
        Path file = dir.resolve("test_batch.bin");
        Files.write(file, new byte[0]);
        DataException e = assertThrows(DataException.class, () -> Cifar10.load(dir));
        assertEquals(file + ": empty; a CIFAR-10 binary batch holds records of 3073 bytes"
                + " (label byte, then 32x32 R, G and B planes), 10000 in a standard file",
                e.getMessage());
    }

    @Test
    void labelByteAbove9NamesFileAndRecord() throws IOException {
        CifarFiles.write(dir, 3, 3);
        Path file = dir.resolve("data_batch_2.bin");
        Files.write(file, zeros(1, 2, 10));
        DataException e = assertThrows(DataException.class, () -> Cifar10.load(dir));
        assertEquals(file + ": record 2 has label byte 10, expected 0..9 (not a CIFAR-10"
                + " binary batch?)", e.getMessage());
        Files.write(file, zeros(255, 2, 10));
        e = assertThrows(DataException.class, () -> Cifar10.load(dir));
        assertEquals(file + ": record 0 has label byte 255, expected 0..9 (not a CIFAR-10"
                + " binary batch?)", e.getMessage());
    }

    @Test
    void missingFileIsNamed() throws IOException {
        CifarFiles.write(dir, 1, 3);
        Files.delete(dir.resolve("data_batch_5.bin"));
        DataException e = assertThrows(DataException.class, () -> Cifar10.load(dir));
        assertEquals(dir + ": data_batch_5.bin not found (nor in its cifar-10-batches-bin"
                + " subfolder); let the program fetch CIFAR-10 or pass the directory holding the"
                + " six CIFAR-10 binary files (data_batch_1.bin .. data_batch_5.bin and"
                + " test_batch.bin) with --data-dir", e.getMessage());
        assertEquals(List.of("data_batch_5.bin"), Cifar10.missing(dir));
    }

    @Test
    void missingFileInTheSubfolderIsNamedThere() throws IOException {
        Path sub = dir.resolve("cifar-10-batches-bin");
        CifarFiles.write(sub, 1, 3);
        Files.delete(sub.resolve("test_batch.bin"));
        DataException e = assertThrows(DataException.class, () -> Cifar10.load(dir));
        assertEquals(sub + ": test_batch.bin not found; let the program fetch CIFAR-10 or pass"
                + " the directory holding the six CIFAR-10 binary files (data_batch_1.bin .."
                + " data_batch_5.bin and test_batch.bin) with --data-dir", e.getMessage());
    }

    @Test
    void missingDirectoryIsSaidSo() {
        Path none = dir.resolve("none");
        DataException e = assertThrows(DataException.class, () -> Cifar10.load(none));
        assertEquals(none + " (no such directory): data_batch_1.bin not found (nor in its"
                + " cifar-10-batches-bin subfolder); let the program fetch CIFAR-10 or pass the"
                + " directory holding the six CIFAR-10 binary files (data_batch_1.bin .."
                + " data_batch_5.bin and test_batch.bin) with --data-dir", e.getMessage());
        assertEquals(Cifar10.FILE_NAMES, Cifar10.missing(none));
    }

    @Test
    void aCompleteSetWinsOverAPartialOne() throws IOException {
        CifarFiles.write(dir.resolve("cifar-10-batches-bin"), 1, 3);
        Files.write(dir.resolve("data_batch_1.bin"), zeros(4));
        assertEquals(dir.resolve("cifar-10-batches-bin"), Cifar10.locate(dir));
        assertEquals(1, Cifar10.load(dir).train().labels()[1]);
    }

    @Test
    void checkCountsRecordsAndValidatesLabels() throws IOException {
        Path file = Files.write(dir.resolve("b.bin"), zeros(0, 9, 5));
        assertEquals(3, Cifar10.check(file));
        Files.write(file, zeros(0, 12));
        DataException e = assertThrows(DataException.class, () -> Cifar10.check(file));
        assertEquals(file + ": record 1 has label byte 12, expected 0..9 (not a CIFAR-10 binary"
                + " batch?)", e.getMessage());
    }
}
