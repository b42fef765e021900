// inkan — the byte layout of a PDF incremental update.
#include "daemon/formats/pdf_incremental.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "daemon/error.hpp"

namespace inkan::formats::pdf {

namespace {

// ISO 32000-1 §7.5.5: "startxref", the offset, "%%EOF" end the file; readers
// look for them in its last 1024 bytes (Implementation note in Annex H too).
constexpr std::string_view kStartXref = "startxref";
constexpr std::size_t kTailSearch = 1024;
// §7.5.8.2: the field widths of the uncompressed cross-reference stream this
// writer emits: type (1 byte), offset (4 bytes: documents are ≤ 32 MiB),
// generation (2 bytes).
constexpr int kOffsetBytes = 4;
constexpr int kGenerationBytes = 2;

bool isSpace(std::uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0'; }

[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorCode::DocumentInvalid, "PDF: " + what); }

void append(Bytes& out, std::string_view text) { out.insert(out.end(), text.begin(), text.end()); }

void appendBigEndian(std::string& out, std::uint64_t value, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

}  // namespace

LastXref findLastXref(const Bytes& pdf)
{
    const std::size_t from = pdf.size() > kTailSearch ? pdf.size() - kTailSearch : 0;
    const std::string_view tail(reinterpret_cast<const char*>(pdf.data()) + from, pdf.size() - from);
    const std::size_t keyword = tail.rfind(kStartXref);
    if (keyword == std::string_view::npos) invalid("no startxref at the end of the file");
    std::size_t i = keyword + kStartXref.size();
    while (i < tail.size() && isSpace(static_cast<std::uint8_t>(tail[i]))) ++i;
    std::uint64_t offset = 0;
    const std::size_t digits = i;
    while (i < tail.size() && tail[i] >= '0' && tail[i] <= '9' && i - digits < 12) offset = offset * 10 + (tail[i++] - '0');
    if (i == digits || offset >= pdf.size()) invalid("startxref does not point into the file");

    // A classic section starts with the keyword "xref" (§7.5.4); anything
    // else there must be a cross-reference stream object ("N G obj", §7.5.8).
    const std::string_view at(reinterpret_cast<const char*>(pdf.data()) + offset, std::min<std::size_t>(4, pdf.size() - offset));
    return LastXref{offset, at == "xref" ? XrefForm::Table : XrefForm::Stream};
}

IncrementalUpdate::IncrementalUpdate(const Bytes& original, int previousSize, LastXref previous)
    : out_(original), previousSize_(previousSize), previous_(previous), nextNumber_(previousSize)
{
    // §7.5.6: the update follows the original's last byte; an end-of-line
    // keeps "%%EOF" apart from the first object.
    if (out_.empty() || (out_.back() != '\n' && out_.back() != '\r')) out_.push_back('\n');
}

std::size_t IncrementalUpdate::addObject(ObjectId id, std::string_view body)
{
    entries_.push_back({id, out_.size()});
    append(out_, std::to_string(id.number) + " " + std::to_string(id.generation) + " obj\n");
    const std::size_t at = out_.size();
    append(out_, body);
    append(out_, "\nendobj\n");
    nextNumber_ = std::max(nextNumber_, id.number + 1);
    return at;
}

std::size_t IncrementalUpdate::addStream(ObjectId id, std::string_view dictionary, std::string_view data)
{
    entries_.push_back({id, out_.size()});
    append(out_, std::to_string(id.number) + " " + std::to_string(id.generation) + " obj\n");
    const std::size_t at = out_.size();
    append(out_, dictionary);
    // §7.3.8.1: "stream" is followed by CR LF or LF; the data by an EOL before "endstream".
    append(out_, "\nstream\n");
    append(out_, data);
    append(out_, "\nendstream\nendobj\n");
    nextNumber_ = std::max(nextNumber_, id.number + 1);
    return at;
}

std::string IncrementalUpdate::trailerEntries(const TrailerEntries& trailer, int size) const
{
    std::string text = "/Size " + std::to_string(size) + " /Prev " + std::to_string(previous_.offset) + " /Root " + trailer.root;
    if (!trailer.info.empty()) text += " /Info " + trailer.info;
    if (!trailer.id.empty()) text += " /ID " + trailer.id;
    return text;
}

Bytes IncrementalUpdate::finish(const TrailerEntries& trailer)
{
    if (previous_.form == XrefForm::Table) {
        writeTable(trailer, std::max(previousSize_, nextNumber_));
    } else {
        writeStream(trailer);
    }
    return std::move(out_);
}

namespace {

/// The entries sorted by number, cut into runs of consecutive numbers (the
/// subsections of §7.5.4, the /Index pairs of §7.5.8.2).
template <class Entry>
std::vector<std::vector<Entry>> runsOf(std::vector<Entry> entries)
{
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.id.number < b.id.number; });
    std::vector<std::vector<Entry>> runs;
    for (const Entry& entry : entries) {
        if (!runs.empty() && runs.back().back().id.number == entry.id.number) {
            throw Error(ErrorCode::Internal, "PDF update: object " + std::to_string(entry.id.number) + " written twice");
        }
        if (runs.empty() || runs.back().back().id.number + 1 != entry.id.number) runs.emplace_back();
        runs.back().push_back(entry);
    }
    return runs;
}

}  // namespace

void IncrementalUpdate::writeTable(const TrailerEntries& trailer, int size)
{
    const std::uint64_t xref = out_.size();
    std::string text = "xref\n";
    for (const auto& run : runsOf(entries_)) {
        text += std::to_string(run.front().id.number) + " " + std::to_string(run.size()) + "\n";
        for (const Entry& entry : run) {
            // §7.5.4: exactly 20 bytes: 10-digit offset, 5-digit generation, 'n', a two-byte EOL.
            char line[21];
            std::snprintf(line, sizeof line, "%010llu %05d n\r\n", static_cast<unsigned long long>(entry.offset),
                          entry.id.generation);
            text += line;
        }
    }
    text += "trailer\n<< " + trailerEntries(trailer, size) + " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    append(out_, text);
}

void IncrementalUpdate::writeStream(const TrailerEntries& trailer)
{
    // The cross-reference stream is an object of the update too, with an entry of its own.
    const ObjectId self{reserveNumber(), 0};
    const std::uint64_t xref = out_.size();
    std::vector<Entry> all = entries_;
    all.push_back({self, xref});
    const int size = std::max(previousSize_, nextNumber_);

    std::string index;
    std::string data;
    for (const auto& run : runsOf(all)) {
        index += (index.empty() ? "" : " ") + std::to_string(run.front().id.number) + " " + std::to_string(run.size());
        for (const Entry& entry : run) {
            if (entry.offset > std::numeric_limits<std::uint32_t>::max()) throw Error(ErrorCode::Internal, "PDF update: offset too large");
            data += '\x01';  // type 1: an uncompressed object at this offset
            appendBigEndian(data, entry.offset, kOffsetBytes);
            appendBigEndian(data, static_cast<std::uint64_t>(entry.id.generation), kGenerationBytes);
        }
    }
    const std::string dictionary = "<< /Type /XRef " + trailerEntries(trailer, size) + " /Index [" + index + "] /W [1 " +
                                   std::to_string(kOffsetBytes) + " " + std::to_string(kGenerationBytes) + "] /Length " +
                                   std::to_string(data.size()) + " >>";
    addStream(self, dictionary, data);
    append(out_, "startxref\n" + std::to_string(xref) + "\n%%EOF\n");
}

}  // namespace inkan::formats::pdf
