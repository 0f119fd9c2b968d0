// One JVM for many EPUBCheck runs: EPUBCheck compiles its schemas once, then each book is
// checked in well under a second instead of ~9 s. Reads "<epub>\t<json report path>" lines on
// stdin, answers "done\t<exit code>" on stdout. Started by broadsheet.check.epubcheck.
import com.adobe.epubcheck.tool.EpubChecker;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

public class EpubCheckServer {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream answers = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(quiet);
        System.setErr(quiet);
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.split("\t");
            int code;
            try {
                code = new EpubChecker().run(new String[] {parts[0], "--json", parts[1], "-q"});
            } catch (Throwable error) {
                code = -1;
            }
            answers.println("done\t" + code);
        }
    }
}
