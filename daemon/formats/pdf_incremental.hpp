// inkan — the byte layout of a PDF incremental update (ISO 32000-1 §7.5.6):
// the original file stays byte for byte, and one section is appended after
// it: the new and changed objects, a cross-reference section for them, and a
// trailer whose /Prev points at the original's last cross-reference section.
//
// Why inkan lays this out itself (docs/formats.md "pdf"): qpdf, the PDF
// library inkand uses, parses every PDF but writes whole files only
// (QPDFWriter has no incremental mode), and a rewritten file breaks the
// signatures already in it. So qpdf reads the document and serializes every
// object's body (QPDFObjectHandle::unparse*); this writer only frames those
// bodies ("N G obj … endobj", "stream … endstream"), numbers their offsets and
// writes the cross-reference section in the form the original's last one
// has: a classic table (§7.5.4) or an uncompressed cross-reference stream
// (§7.5.8). It knows no object syntax beyond that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/card/types.hpp"

namespace inkan::formats::pdf {

struct ObjectId {
    int number = 0;
    int generation = 0;
};

/// The form of the cross-reference section the update ends with.
enum class XrefForm { Table, Stream };

/// The trailer entries of the update besides /Size (computed) and /Prev.
/// Each is PDF text as qpdf unparsed it, e.g. "1 0 R"; `info` may be empty.
struct TrailerEntries {
    std::string root;
    std::string info;
    std::string id;  // "[<…> <…>]"
};

/// Where the original's last cross-reference section starts and which form it
/// has, read from the file's `startxref` (§7.5.5). Throws DOCUMENT_INVALID when
/// the end of the file has no `startxref` pointing into the file.
struct LastXref {
    std::uint64_t offset = 0;
    XrefForm form = XrefForm::Table;
};
LastXref findLastXref(const Bytes& pdf);

class IncrementalUpdate {
public:
    /// Starts the update after `original` (a newline is added first when it
    /// does not end with one). `previousSize` is the original trailer's /Size;
    /// `previous` its last cross-reference section.
    IncrementalUpdate(const Bytes& original, int previousSize, LastXref previous);

    /// Appends "N G obj\n<body>\nendobj\n"; returns the offset of body's first byte.
    std::size_t addObject(ObjectId id, std::string_view body);
    /// Appends a stream object: `dictionary` (which must hold the right
    /// /Length), "stream", the data and "endstream". Returns the offset of
    /// the dictionary's first byte.
    std::size_t addStream(ObjectId id, std::string_view dictionary, std::string_view data);

    /// The first object number free for new objects: max(/Size, …).
    int nextNumber() const noexcept { return nextNumber_; }
    /// Reserves the next free object number.
    int reserveNumber() noexcept { return nextNumber_++; }

    /// Appends the cross-reference section (in the previous one's form), the
    /// trailer and `startxref`/%%EOF; returns the whole file.
    Bytes finish(const TrailerEntries& trailer);

private:
    struct Entry {
        ObjectId id;
        std::uint64_t offset;
    };
    void writeTable(const TrailerEntries& trailer, int size);
    void writeStream(const TrailerEntries& trailer);
    std::string trailerEntries(const TrailerEntries& trailer, int size) const;

    Bytes out_;
    int previousSize_;
    LastXref previous_;
    int nextNumber_;
    std::vector<Entry> entries_;
};

}  // namespace inkan::formats::pdf
