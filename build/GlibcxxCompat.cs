// Makes TorchSharp's libLibTorchSharp.so load on Linux systems whose libstdc++ is older than GCC 13
// (Debian 12, Ubuntu 22.04: GLIBCXX_3.4.30 at most).
//
// libLibTorchSharp.so asks for GLIBCXX_3.4.32 for exactly one symbol, std::ios_base_library_init(), which GCC 13
// emits from <iostream> static initialisers. Older libstdc++ initialises iostreams by itself, so an empty function
// is a correct stand-in. On such systems this file, run by MSBuild after each build (see GlibcxxCompat.targets):
//   1. marks the GLIBCXX_3.4.32 entry of the library's version-needs table weak, so the loader no longer refuses it;
//   2. writes a tiny shared library (the "shim") that defines the symbol as an empty function, next to the library;
//   3. adds the shim to the library's DT_NEEDED list, so the loader finds the definition.
// A DT_NEEDED entry names its file through an offset into the library's string table, and we cannot grow that
// table in place. The symbol's own name is guaranteed to be in it (the library references the symbol), so the shim
// file is named after the symbol it defines: "_ZSt21ios_base_library_initv". The library's RUNPATH holds $ORIGIN,
// so the loader looks for the shim beside it. Patching is idempotent; a system whose libstdc++ already provides
// GLIBCXX_3.4.32 is left untouched.
//
// It is compiled by MSBuild's RoslynCodeTaskFactory against netstandard, hence plain byte arrays and no spans.
// The same file is compiled into the tests (with BLOB_GLIBCXX_NO_TASK defined) so the ELF edits are checked there.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

#nullable enable

namespace Blob.Build
{
    public static class GlibcxxCompat
    {
        public const string NeededVersion = "GLIBCXX_3.4.32";
        public const string Symbol = "_ZSt21ios_base_library_initv";
        public const string ShimFileName = Symbol;

        const uint SHT_DYNAMIC = 6, SHT_GNU_verdef = 0x6ffffffd, SHT_GNU_verneed = 0x6ffffffe;
        const long DT_NULL = 0, DT_NEEDED = 1, DT_RUNPATH = 29, DT_RPATH = 15;
        const ushort VER_FLG_WEAK = 0x2;

        /// <summary>What <see cref="Apply"/> did, for the build log.</summary>
        public enum Outcome { NotNeeded, AlreadyPatched, Patched, LibraryDoesNotNeedIt }

        /// <summary>True when the libstdc++ the loader would pick defines GLIBCXX_3.4.32 (or none is found).</summary>
        public static bool SystemHasVersion(IEnumerable<string>? searchDirectories = null)
        {
            string? libstdcxx = FindLibstdcxx(searchDirectories ?? DefaultSearchDirectories());
            if (libstdcxx == null) return true; // nothing to compare against: leave the library alone
            return ReadVersionDefinitions(File.ReadAllBytes(libstdcxx)).Contains(NeededVersion);
        }

        /// <summary>Patches <paramref name="library"/> in place and writes the shim beside it, if the system needs it.</summary>
        public static Outcome Apply(string library, bool systemHasVersion)
        {
            if (systemHasVersion) return Outcome.NotNeeded;
            byte[] elf = File.ReadAllBytes(library);
            var result = Patch(elf);
            if (result == Outcome.Patched)
            {
                string shim = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(library))!, ShimFileName);
                WriteAtomically(shim, BuildShim(MachineOf(elf)));
                WriteAtomically(library, elf);
            }
            else if (result == Outcome.AlreadyPatched)
            {
                string shim = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(library))!, ShimFileName);
                if (!File.Exists(shim)) WriteAtomically(shim, BuildShim(MachineOf(elf)));
            }
            return result;
        }

        /// <summary>Edits the ELF image in memory: weak version need + DT_NEEDED on the shim. Idempotent.</summary>
        public static Outcome Patch(byte[] elf)
        {
            var sections = ReadSections(elf);
            var verneed = sections.FirstOrDefault(s => s.Type == SHT_GNU_verneed);
            var dynamic = sections.FirstOrDefault(s => s.Type == SHT_DYNAMIC);
            if (verneed == null || dynamic == null) return Outcome.LibraryDoesNotNeedIt;
            var dynstr = sections[(int)dynamic.Link];

            // 1. Find the GLIBCXX_3.4.32 entry among the version needs.
            long auxFlagsOffset = -1;
            long vn = verneed.Offset;
            for (int i = 0; i < verneed.Info; i++)
            {
                ushort count = U16(elf, vn + 2);
                long aux = vn + U32(elf, vn + 8);
                for (int j = 0; j < count; j++)
                {
                    if (CString(elf, dynstr.Offset + U32(elf, aux + 8)) == NeededVersion) auxFlagsOffset = aux + 4;
                    aux += U32(elf, aux + 12);
                }
                vn += U32(elf, vn + 12);
            }
            if (auxFlagsOffset < 0) return Outcome.LibraryDoesNotNeedIt;

            // 2. The dynamic section: is the shim already needed, and is there a spare slot after DT_NULL?
            long symbolAt = FindString(elf, dynstr.Offset, dynstr.Size, Symbol);
            if (symbolAt < 0) throw new InvalidDataException($"{Symbol} is not in the string table");
            long symbolName = symbolAt - dynstr.Offset; // DT_NEEDED values are offsets into the string table
            int slots = (int)(dynamic.Size / 16), nullSlot = -1;
            bool hasShim = false, hasOrigin = false;
            for (int k = 0; k < slots; k++)
            {
                long tag = I64(elf, dynamic.Offset + 16 * k), val = I64(elf, dynamic.Offset + 16 * k + 8);
                if (tag == DT_NULL) { nullSlot = k; break; }
                if (tag == DT_NEEDED && val == symbolName) hasShim = true;
                if ((tag == DT_RUNPATH || tag == DT_RPATH) && CString(elf, dynstr.Offset + val).Contains("$ORIGIN")) hasOrigin = true;
            }
            bool weak = (U16(elf, auxFlagsOffset) & VER_FLG_WEAK) != 0;
            if (weak && hasShim) return Outcome.AlreadyPatched;
            if (!hasOrigin) throw new InvalidDataException("the library's RUNPATH has no $ORIGIN, so a shim beside it would not be found");

            Put(elf, auxFlagsOffset, 2, U16(elf, auxFlagsOffset) | VER_FLG_WEAK);
            if (!hasShim)
            {
                if (nullSlot < 0 || nullSlot + 1 >= slots)
                    throw new InvalidDataException("the dynamic section has no spare slot for one more DT_NEEDED entry");
                // Insert DT_NEEDED first among the needed libraries' order does not matter to the loader; put it
                // where DT_NULL was and move the terminator one slot on.
                long at = dynamic.Offset + 16 * nullSlot;
                Put(elf, at, 8, DT_NEEDED);
                Put(elf, at + 8, 8, symbolName);
                Put(elf, at + 16, 8, DT_NULL);
                Put(elf, at + 24, 8, 0);
            }
            return Outcome.Patched;
        }

        /// <summary>
        /// A minimal ELF64 shared library defining <see cref="Symbol"/> as a function that returns at once.
        /// Layout: page 0 (read + execute) holds the headers, the SysV hash table, the symbol and string tables and
        /// the code; page 1 (read + write, as the loader may adjust it) holds the dynamic section.
        /// </summary>
        public static byte[] BuildShim(ushort machine)
        {
            byte[] code = machine switch
            {
                62 => new byte[] { 0xC3 },                    // x86-64: ret
                183 => new byte[] { 0xC0, 0x03, 0x5F, 0xD6 }, // AArch64: ret
                _ => throw new NotSupportedException($"ELF machine {machine}"),
            };
            const int phoff = 64, phnum = 4, hashOff = phoff + 56 * phnum; // 0x120
            const int hashSize = 5 * 4, symOff = (hashOff + hashSize + 7) / 8 * 8, symSize = 2 * 24;
            byte[] strtab = Encoding.ASCII.GetBytes("\0" + Symbol + "\0"); // the symbol's name is also the soname
            int strOff = symOff + symSize, codeOff = Align(strOff + strtab.Length, 16), textEnd = codeOff + code.Length;
            const int dynOff = 0x1000;
            var dyn = new (long tag, long val)[]
            {
                (4, hashOff), (5, strOff), (6, symOff), (10, strtab.Length), (11, 24), (14, 1), (0, 0),
            };
            int dynSize = dyn.Length * 16;
            var f = new byte[dynOff + dynSize];

            // ELF header
            Array.Copy(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0 }, f, 8);
            Put(f, 16, 2, 3);          // ET_DYN
            Put(f, 18, 2, machine);
            Put(f, 20, 4, 1);          // EV_CURRENT
            Put(f, 32, 8, phoff);
            Put(f, 52, 2, 64);         // e_ehsize
            Put(f, 54, 2, 56);         // e_phentsize
            Put(f, 56, 2, phnum);
            Put(f, 58, 2, 64);         // e_shentsize (there are no sections)

            void Segment(int index, uint type, uint flags, long offset, long size, long align)
            {
                long p = phoff + 56 * index;
                Put(f, p, 4, type);
                Put(f, p + 4, 4, flags);
                Put(f, p + 8, 8, offset);    // p_offset
                Put(f, p + 16, 8, offset);   // p_vaddr
                Put(f, p + 24, 8, offset);   // p_paddr
                Put(f, p + 32, 8, size);     // p_filesz
                Put(f, p + 40, 8, size);     // p_memsz
                Put(f, p + 48, 8, align);
            }
            Segment(0, 1, 5, 0, textEnd, 0x1000);             // PT_LOAD, R+X
            Segment(1, 1, 6, dynOff, dynSize, 0x1000);        // PT_LOAD, R+W
            Segment(2, 2, 6, dynOff, dynSize, 8);             // PT_DYNAMIC
            Segment(3, 0x6474e551, 6, 0, 0, 16);              // PT_GNU_STACK: the stack stays non-executable

            // SysV hash: one bucket whose chain is symbol 1; chain[0] = chain[1] = 0.
            Put(f, hashOff, 4, 1);      // nbucket
            Put(f, hashOff + 4, 4, 2);  // nchain
            Put(f, hashOff + 8, 4, 1);  // bucket[0]

            // Symbol 1: a global function at codeOff, defined (any section index but SHN_UNDEF).
            long sym = symOff + 24;
            Put(f, sym, 4, 1);
            f[sym + 4] = 0x12;          // STB_GLOBAL, STT_FUNC
            Put(f, sym + 6, 2, 1);
            Put(f, sym + 8, 8, codeOff);
            Put(f, sym + 16, 8, code.Length);

            Array.Copy(strtab, 0, f, strOff, strtab.Length);
            Array.Copy(code, 0, f, codeOff, code.Length);
            for (int i = 0; i < dyn.Length; i++)
            {
                Put(f, dynOff + 16 * i, 8, dyn[i].tag);
                Put(f, dynOff + 16 * i + 8, 8, dyn[i].val);
            }
            return f;
        }

        /// <summary>The version names a library defines (.gnu.version_d), e.g. GLIBCXX_3.4.30.</summary>
        public static HashSet<string> ReadVersionDefinitions(byte[] elf)
        {
            var names = new HashSet<string>();
            var sections = ReadSections(elf);
            var verdef = sections.FirstOrDefault(s => s.Type == SHT_GNU_verdef);
            if (verdef == null) return names;
            var strtab = sections[(int)verdef.Link];
            long vd = verdef.Offset;
            for (int i = 0; i < verdef.Info; i++)
            {
                long aux = vd + U32(elf, vd + 12);
                names.Add(CString(elf, strtab.Offset + U32(elf, aux)));
                vd += U32(elf, vd + 16);
            }
            return names;
        }

        public static ushort MachineOf(byte[] elf) => U16(elf, 18);

        static string? FindLibstdcxx(IEnumerable<string> directories) =>
            directories.Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);

        static IEnumerable<string> DefaultSearchDirectories()
        {
            var fromEnv = (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "")
                .Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries);
            return fromEnv.Concat(new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/usr/lib64", "/lib64", "/usr/lib", "/lib",
            });
        }

        sealed class Section
        {
            public uint Type, Link, Info;
            public long Offset, Size;
        }

        static List<Section> ReadSections(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F' || elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("not a little-endian 64-bit ELF file");
            long shoff = I64(elf, 40);
            int shentsize = U16(elf, 58), shnum = U16(elf, 60);
            var list = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                list.Add(new Section { Type = U32(elf, h + 4), Offset = I64(elf, h + 24), Size = I64(elf, h + 32), Link = U32(elf, h + 40), Info = U32(elf, h + 44) });
            }
            return list;
        }

        static long FindString(byte[] elf, long start, long size, string value)
        {
            byte[] needle = Encoding.ASCII.GetBytes("\0" + value + "\0");
            for (long i = start; i + needle.Length <= start + size; i++)
            {
                int k = 0;
                while (k < needle.Length && elf[i + k] == needle[k]) k++;
                if (k == needle.Length) return i + 1;
            }
            return -1;
        }

        static void WriteAtomically(string path, byte[] bytes)
        {
            string temp = path + ".tmp";
            File.WriteAllBytes(temp, bytes);
            if (File.Exists(path)) File.Delete(path);
            File.Move(temp, path);
        }

        static int Align(int value, int to) => (value + to - 1) / to * to;
        // Little-endian reads and writes of 2-, 4- and 8-byte fields.
        static ulong Get(byte[] b, long at, int size)
        {
            ulong v = 0;
            for (int i = size - 1; i >= 0; i--) v = (v << 8) | b[at + i];
            return v;
        }
        static void Put(byte[] b, long at, int size, long value)
        {
            for (int i = 0; i < size; i++) b[at + i] = (byte)(value >> (8 * i));
        }
        static ushort U16(byte[] b, long at) => (ushort)Get(b, at, 2);
        static uint U32(byte[] b, long at) => (uint)Get(b, at, 4);
        static long I64(byte[] b, long at) => (long)Get(b, at, 8);
        static string CString(byte[] b, long at)
        {
            int end = Array.IndexOf(b, (byte)0, (int)at);
            return Encoding.ASCII.GetString(b, (int)at, end - (int)at);
        }
    }

#if !BLOB_GLIBCXX_NO_TASK
    /// <summary>MSBuild task: applies <see cref="GlibcxxCompat"/> to every libLibTorchSharp.so in the output.</summary>
    public class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public string OutputDirectory { get; set; } = "";
        /// <summary>Patch whatever the system's libstdc++ (for output that will run on other systems: a tool package).</summary>
        public bool Always { get; set; }

        public override bool Execute()
        {
            if (!Directory.Exists(OutputDirectory)) return true;
            var libraries = Directory.GetFiles(OutputDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
            if (libraries.Length == 0) return true;
            bool has = !Always && GlibcxxCompat.SystemHasVersion();
            foreach (var library in libraries)
            {
                var outcome = GlibcxxCompat.Apply(library, has);
                if (outcome == GlibcxxCompat.Outcome.Patched)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"blob: patched {library} for a libstdc++ without {GlibcxxCompat.NeededVersion}");
            }
            return true;
        }
    }
#endif
}
