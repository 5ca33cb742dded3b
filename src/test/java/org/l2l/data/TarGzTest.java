package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarGzTest {

    @TempDir
    Path dir;

    /** Sizes chosen to hit an exact block multiple, a small file and one spanning blocks. */
    private static Map<String, byte[]> entries() {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("package/package.json", "{\"name\":\"x\"}".getBytes(StandardCharsets.UTF_8));
        entries.put("package/data/t10k-labels-idx1-ubyte", TestFiles.labels(7, 2, 1));
        entries.put("package/data/exact-block", new byte[512]);
        entries.put("package/data/t10k-images-idx3-ubyte", TestFiles.images(2, 28, 28));
        return entries;
    }

    private Set<String> extractBoth(Path archive, Path labels, Path images) {
        return TarGz.extract(archive, Map.of(
                "package/data/t10k-labels-idx1-ubyte", labels,
                "package/data/t10k-images-idx3-ubyte", images));
    }

    @Test
    void extractsChosenEntriesFromTgzWithUstarPrefix() throws IOException {
        Path archive = Files.write(dir.resolve("a.tgz"),
                TestFiles.gzip(TestFiles.tar(entries(), true)));
        Path labels = dir.resolve("labels");
        Path images = dir.resolve("images");
        Set<String> found = extractBoth(archive, labels, images);
        assertEquals(Set.of("package/data/t10k-labels-idx1-ubyte",
                "package/data/t10k-images-idx3-ubyte"), found);
        assertArrayEquals(TestFiles.labels(7, 2, 1), Files.readAllBytes(labels));
        assertArrayEquals(TestFiles.images(2, 28, 28), Files.readAllBytes(images));
        assertFalse(Files.exists(dir.resolve("package")), "unselected entries are not written");
    }

    @Test
    void extractsFromPlainTarWithFullNames() throws IOException {
        Path archive = Files.write(dir.resolve("a.tar"), TestFiles.tar(entries(), false));
        Path labels = dir.resolve("labels");
        Set<String> found = extractBoth(archive, labels, dir.resolve("images"));
        assertEquals(2, found.size());
        assertArrayEquals(new int[] {7, 2, 1}, Idx.readLabels(labels, true));
    }

    @Test
    void absentEntryIsNotReported() throws IOException {
        Path archive = Files.write(dir.resolve("a.tgz"),
                TestFiles.gzip(TestFiles.tar(entries(), true)));
        Set<String> found = TarGz.extract(archive,
                Map.of("package/data/train-images-idx3-ubyte", dir.resolve("x")));
        assertEquals(Set.of(), found);
        assertFalse(Files.exists(dir.resolve("x")));
    }

    @Test
    void paxPathNamesTheNextEntry() throws IOException {
        String longName = "package/" + "d".repeat(120) + "/train-labels-idx1-ubyte";
        byte[] data = TestFiles.labels(3, 1, 4, 1, 5);
        Path archive = Files.write(dir.resolve("pax.tgz"),
                TestFiles.gzip(TestFiles.tarWithPaxName(longName, data)));
        Path out = dir.resolve("out");
        assertEquals(Set.of(longName), TarGz.extract(archive, Map.of(longName, out)));
        assertArrayEquals(data, Files.readAllBytes(out));
    }

    @Test
    void truncatedArchiveIsAnError() throws IOException {
        byte[] tar = TestFiles.tar(entries(), true);
        // Cut inside the images entry's data.
        Path archive = Files.write(dir.resolve("cut.tgz"),
                TestFiles.gzip(Arrays.copyOf(tar, tar.length - 2048)));
        DataException e = assertThrows(DataException.class,
                () -> extractBoth(archive, dir.resolve("l"), dir.resolve("i")));
        assertTrue(e.getMessage().startsWith(archive + ": truncated archive"), e.getMessage());
    }

    @Test
    void corruptHeaderChecksumIsAnError() throws IOException {
        byte[] tar = TestFiles.tar(entries(), true);
        tar[0] ^= 1; // first byte of the first entry's name
        Path archive = Files.write(dir.resolve("bad.tar"), tar);
        DataException e = assertThrows(DataException.class,
                () -> extractBoth(archive, dir.resolve("l"), dir.resolve("i")));
        assertTrue(e.getMessage().startsWith(archive + ": corrupt tar header at offset 0"),
                e.getMessage());
    }

    @Test
    void gnuLongNameNamesTheNextEntry() throws IOException {
        String longName = "package/" + "e".repeat(150) + "/x";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TestFiles.writeEntry(out, "././@LongLink", "", 'L',
                (longName + "\0").getBytes(StandardCharsets.UTF_8));
        TestFiles.writeEntry(out, "short", "", '0', new byte[] {42});
        out.writeBytes(new byte[1024]);
        Path archive = Files.write(dir.resolve("gnu.tar"), out.toByteArray());
        Path target = dir.resolve("t");
        assertEquals(Set.of(longName), TarGz.extract(archive, Map.of(longName, target)));
        assertArrayEquals(new byte[] {42}, Files.readAllBytes(target));
    }

    /** GNU tar's layout keeps times where POSIX has the prefix; they are not part of the name. */
    @Test
    void gnuLayoutHasNoPrefixField() throws IOException {
        byte[] data = CifarFiles.batch(0, 1, 1);
        Path archive = Files.write(dir.resolve("cifar.tgz"), TestFiles.gzip(TestFiles.gnuTar(
                Map.of("cifar-10-batches-bin/data_batch_1.bin", data))));
        Path target = dir.resolve("b1");
        assertEquals(Set.of("cifar-10-batches-bin/data_batch_1.bin"), TarGz.extract(archive,
                Map.of("cifar-10-batches-bin/data_batch_1.bin", target)));
        assertArrayEquals(data, Files.readAllBytes(target));
    }
}
