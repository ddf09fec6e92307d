// The study's report: the question, the findings, and sections of tables and figures,
// assembled into one self-contained index.html. The findings and learning curves come from
// study_findings.h, and the numbers behind them from study_stats.h.
#pragma once

#include "felis/study/report.h"
#include "felis/study/study.h"
#include "felis/tensor/thread_pool.h"

#include <filesystem>
#include <string>

namespace felis {

// Builds the report of `results` on `data`, reading the runs' models from DIR/runs, and
// writes every figure to DIR/figures as well. Throws felis::Error when a run's model file
// cannot be read or a chart cannot be drawn.
Report build_study_report(const StudyResults& results, const DataSplits& data,
                          const std::string& data_path, const std::filesystem::path& out,
                          ThreadPool& pool);

}  // namespace felis
