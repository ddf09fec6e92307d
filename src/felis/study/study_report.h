// The study's report: findings written from the measured numbers, tables and figures,
// assembled into one self-contained index.html.
#pragma once

#include "felis/study/report.h"
#include "felis/study/study.h"

#include <filesystem>

namespace felis {

// Builds the report of `results` on `data`, reading the runs' models from DIR/runs, and
// writes every figure to DIR/figures as well. Throws felis::Error when a run's model file
// cannot be read or a chart cannot be drawn.
Report build_study_report(const StudyResults& results, const DataSplits& data,
                          const std::string& data_path, const std::filesystem::path& out,
                          ThreadPool& pool);

}  // namespace felis
