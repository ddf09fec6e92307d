// The HTML report of a study: a small document model and a renderer that writes it as one
// self-contained index.html.
//
// The page makes no request of its own: the CSS and a small script are inline, and every
// figure is an <img> whose source is a data: URI (base64). A Content-Security-Policy meta
// tag allows nothing else, so a browser blocks any external font, script, style or image
// even if one slipped in. All text from the model is escaped for HTML.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace felis {

// Every member has an initializer, even `{}`, so that designated initializers may leave any
// of them out without GCC 12's -Wmissing-field-initializers warning.

// One result stated as a sentence with its numbers, e.g. "A shift of 4 pixels costs
// logistic regression 11 points of test accuracy.", and how often it was measured.
struct ReportFinding {
  std::string sentence{};
  int64_t seeds = 0;   // runs behind the numbers; 0 shows no note
  std::string spread{};  // e.g. "66-82 %"; empty shows only the seed count
};

struct ReportParagraph {
  std::string text{};
};

// A table of text cells. A body cell whose text is a number, with at most a unit or range
// around it (see is_numeric_cell), is right-aligned, and so is the header cell of a column
// whose body cells are all numeric.
struct ReportTable {
  std::string caption{};  // empty: no caption
  std::vector<std::string> header{};
  std::vector<std::vector<std::string>> rows{};  // each as many cells as `header`
};

// An image embedded in the page. `mime_type` is image/png, image/jpeg or image/svg+xml, and
// the bytes must start as that format does.
struct ReportFigure {
  std::vector<char> bytes{};
  std::string mime_type{};
  std::string caption{};
  std::string alt_text{};  // what the image shows, for screen readers and failed loads
};

using ReportBlock = std::variant<ReportParagraph, ReportTable, ReportFigure>;

struct ReportSection {
  std::string heading{};
  std::vector<ReportBlock> blocks{};  // shown in this order
};

struct Report {
  std::string title{};
  std::string question{};  // the opening paragraph: what the study set out to measure
  std::vector<ReportFinding> findings{};
  std::vector<ReportSection> sections{};  // listed in the table of contents
};

// The base64 encoding of `bytes` with the standard alphabet and '=' padding (RFC 4648,
// section 4), without line breaks.
std::string base64_encode(std::string_view bytes);

// `text` with &, <, >, " and ' replaced by character references, so it is safe both as
// element content and inside a quoted attribute. C0 control characters other than tab,
// line feed and carriage return, which HTML does not allow, become U+FFFD.
std::string escape_html(std::string_view text);

// True when `cell` reads as a number: after trimming spaces it contains at least one digit
// and only digits, spaces and the characters + - . , % ( ) / x, and the signs ± and
// en dash, e.g. "70.00 %", "-0.25", "84.4 (84.2-84.5)", "1,024". Numeric cells are
// right-aligned.
bool is_numeric_cell(std::string_view cell);

// The complete HTML page of `report`. Throws felis::Error when a table has no header or a
// row whose cell count differs from the header's, or when a figure is empty, has an
// unsupported MIME type or bytes that do not start as that type does.
std::string render_report_html(const Report& report);

// Renders `report` and writes it to `file` atomically: on any failure `file` keeps its old
// content, or stays absent. Throws felis::Error as render_report_html does, or when the
// file cannot be written.
void write_report_html(const Report& report, const std::filesystem::path& file);

}  // namespace felis
