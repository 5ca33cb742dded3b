package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {

    @TempDir
    Path dir;

    private Path write(String name, byte[] data) throws IOException {
        return Files.write(dir.resolve(name), data);
    }

    @Test
    void readsPlainImageFile() throws IOException {
        Path file = write("images", TestFiles.images(5, 28, 28));
        Idx.Images images = Idx.readImages(file);
        assertEquals(5, images.count());
        assertEquals(28, images.rows());
        assertEquals(28, images.cols());
        assertEquals(5 * 28 * 28, images.pixels().length);
        // Image 3, row 7, col 20 lies at 3*784 + 7*28 + 20.
        assertEquals(TestFiles.pixel(3, 7, 20), images.pixels()[3 * 784 + 7 * 28 + 20] & 0xFF);
    }

    @Test
    void detectsGzipByContentNotName() throws IOException {
        byte[] plain = TestFiles.images(5, 28, 28);
        Path gzNoSuffix = write("images-no-suffix", TestFiles.gzip(plain));
        Path plainWithSuffix = write("images-plain.gz", plain);
        byte[] expected = Idx.readImages(write("images", plain)).pixels();
        assertArrayEquals(expected, Idx.readImages(gzNoSuffix).pixels());
        assertArrayEquals(expected, Idx.readImages(plainWithSuffix).pixels());
    }

    @Test
    void readsLabelsPlainAndGzipped() throws IOException {
        int[] labels = {5, 0, 4, 1, 9};
        assertArrayEquals(labels, Idx.readLabels(write("l", TestFiles.labels(labels)), true));
        assertArrayEquals(labels,
                Idx.readLabels(write("l.gz", TestFiles.gzip(TestFiles.labels(labels))), true));
    }

    @Test
    void truncatedImageFileNamesFileAndSizes() throws IOException {
        byte[] full = TestFiles.images(5, 28, 28);
        Path file = write("train-images-idx3-ubyte", Arrays.copyOf(full, full.length - 100));
        DataException e = assertThrows(DataException.class, () -> Idx.readImages(file));
        assertEquals(file + ": truncated, header declares 5 images of 28x28 (3936 bytes)"
                + " but the data has 3836 bytes", e.getMessage());
    }

    @Test
    void fileShorterThanHeaderIsTruncated() throws IOException {
        Path file = write("tiny", new byte[] {0, 0, 8});
        DataException e = assertThrows(DataException.class, () -> Idx.readLabels(file, false));
        assertTrue(e.getMessage().startsWith(file + ": truncated, 3 bytes"), e.getMessage());
    }

    @Test
    void trailingGarbageIsAnError() throws IOException {
        byte[] full = TestFiles.labels(1, 2, 3);
        Path file = write("labels", Arrays.copyOf(full, full.length + 7));
        DataException e = assertThrows(DataException.class, () -> Idx.readLabels(file, true));
        assertEquals(file + ": 7 bytes of trailing data after 3 labels (11 bytes expected,"
                + " 18 found)", e.getMessage());
    }

    @Test
    void wrongMagicNamesBothNumbers() throws IOException {
        Path file = write("train-images-idx3-ubyte", TestFiles.labels(1, 2));
        DataException e = assertThrows(DataException.class, () -> Idx.readImages(file));
        assertEquals(file + ": wrong magic number 0x00000801, expected 0x00000803"
                + " (an IDX image file)", e.getMessage());
    }

    @Test
    void nonDigitLabelRejectedOnlyWhenAsked() throws IOException {
        Path file = write("labels", TestFiles.labels(3, 12));
        assertArrayEquals(new int[] {3, 12}, Idx.readLabels(file, false));
        DataException e = assertThrows(DataException.class, () -> Idx.readLabels(file, true));
        assertEquals(file + ": label 12 at index 1 is not a digit 0..9", e.getMessage());
    }

    @Test
    void truncatedGzipIsReported() throws IOException {
        byte[] gz = TestFiles.gzip(TestFiles.images(5, 28, 28));
        Path file = write("images.gz", Arrays.copyOf(gz, gz.length / 2));
        DataException e = assertThrows(DataException.class, () -> Idx.readImages(file));
        assertTrue(e.getMessage().startsWith(file + ": truncated or corrupt gzip data"),
                e.getMessage());
    }

    @Test
    void missingFileIsReported() {
        Path file = dir.resolve("absent");
        DataException e = assertThrows(DataException.class, () -> Idx.readImages(file));
        assertEquals(file + ": no such file", e.getMessage());
    }
}
