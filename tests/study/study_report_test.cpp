// The study's report from hand-built results with known numbers: the findings' sentences,
// seed counts and spreads, the learning curves, and the whole report written to a
// directory with its figures.
#include "felis/study/study_report.h"

#include "felis/data/image.h"
#include "felis/study/study_findings.h"

#include "data/fixtures.h"
#include "study/study_report_fixture.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace felis {
namespace {

namespace fs = std::filesystem;
using fixtures::contains;
using fixtures::hand_built_study;
using fixtures::run_record;

// The finding whose sentence starts with `start`. Fails the test when there is none.
ReportFinding finding_starting(const std::vector<ReportFinding>& findings,
                               const std::string& start) {
  for (const auto& finding : findings) {
    if (finding.sentence.rfind(start, 0) == 0) return finding;
  }
  ADD_FAILURE() << "no finding starts with '" << start << "'";
  return {};
}

TEST(StudyFindings, ModelStatementNumbers) {
  const auto findings = study_findings(hand_built_study());
  const ReportFinding cnn = finding_starting(findings, "cnn:");
  EXPECT_EQ(cnn.sentence,
            "cnn: train 99.5 %, test 86.0 %; on perturbed test images 80.1 % under a 4-pixel "
            "shift, 75.0 % under a 20 % tint and 60.0 % under a 40 % tint.");
  EXPECT_EQ(cnn.seeds, 2);
  EXPECT_EQ(cnn.spread, "train 99.0-100.0 %, test 84.0-88.0 %");

  const ReportFinding logreg = finding_starting(findings, "logreg:");
  EXPECT_EQ(logreg.sentence,
            "logreg: train 100.0 %, test 70.0 %; on perturbed test images 52.0 % under a "
            "4-pixel shift, 64.0 % under a 20 % tint and 58.0 % under a 40 % tint.");
  EXPECT_EQ(logreg.spread, "train 100.0-100.0 %, test 68.0-72.0 %");
}

TEST(StudyFindings, AugmentationChangesPerProbe) {
  const auto findings = study_findings(hand_built_study());
  const ReportFinding cnn = finding_starting(findings, "cnn with shift augmentation");
  EXPECT_EQ(cnn.sentence,
            "cnn with shift augmentation, test accuracy without -> with it: 86.0 -> 86.2 % clean, "
            "80.1 -> 85.9 % under a 4-pixel shift, 70.0 -> 72.0 % under a 10-degree rotation, "
            "75.0 -> 76.0 % under a 20 % tint.");
  EXPECT_EQ(cnn.seeds, 2);
  EXPECT_EQ(cnn.spread, "clean without 84.0-88.0 %, with it 85.0-87.4 %");

  // logreg's shift runs were not probed with rotations or tints, so only the shift remains.
  const ReportFinding logreg = finding_starting(findings, "logreg with shift augmentation");
  EXPECT_EQ(logreg.sentence,
            "logreg with shift augmentation, test accuracy without -> with it: 70.0 -> 71.0 % "
            "clean, 52.0 -> 60.0 % under a 4-pixel shift.");
}

TEST(StudyFindings, OrderAndControls) {
  const auto findings = study_findings(hand_built_study());
  ASSERT_EQ(findings.size(), 5u);
  EXPECT_EQ(findings[0].sentence.substr(0, 4), "cnn:");
  EXPECT_EQ(findings[1].sentence.substr(0, 8), "cnn with");
  EXPECT_EQ(findings[2].sentence.substr(0, 7), "logreg:");
  EXPECT_EQ(findings[3].sentence.substr(0, 11), "logreg with");
  EXPECT_EQ(findings[4].sentence,
            "The training images tested (40 in 192 dimensions, one class of 17 images against "
            "the rest) are linearly separable with their true labels and still linearly "
            "separable with shuffled labels, so a high training accuracy on them proves little by "
            "itself.");
  EXPECT_EQ(findings[4].seeds, 0);
}

TEST(StudyFindings, SeparableOnlyWithTrueLabels) {
  StudyResults results = hand_built_study();
  results.separability["shuffled_labels"]["verdict"] = "not separable";
  const ReportFinding finding = finding_starting(study_findings(results), "The training images");
  EXPECT_EQ(finding.sentence,
            "The training images tested (40 in 192 dimensions, one class of 17 images against "
            "the rest) are linearly separable with their true labels and not linearly separable "
            "with shuffled labels.");

  results.separability["shuffled_labels"]["verdict"] = "undecided";
  const ReportFinding undecided = finding_starting(study_findings(results), "The training images");
  EXPECT_TRUE(contains(undecided.sentence, "of undecided linear separability with shuffled"))
      << undecided.sentence;
}

TEST(StudyFindings, UnequalSeedCountsInSpread) {
  StudyResults results = hand_built_study();
  std::erase_if(results.runs, [](const RunRecord& r) {
    return r.run.model == "cnn" && r.run.augmentation == "shift" && r.run.seed == 2;
  });
  const ReportFinding cnn =
      finding_starting(study_findings(results), "cnn with shift augmentation");
  EXPECT_EQ(cnn.seeds, 1);
  EXPECT_EQ(cnn.spread, "clean without 84.0-88.0 % over 2 seeds, with it 85.0-85.0 % over 1");
  EXPECT_TRUE(contains(cnn.sentence, "86.0 -> 85.0 % clean")) << cnn.sentence;
}

TEST(StudyFindings, SingleSeedNoSpread) {
  StudyResults results = hand_built_study();
  std::erase_if(results.runs, [](const RunRecord& r) { return r.run.seed == 2; });
  const auto findings = study_findings(results);
  const ReportFinding cnn = finding_starting(findings, "cnn:");
  EXPECT_EQ(cnn.seeds, 1);
  EXPECT_EQ(cnn.spread, "");
  EXPECT_TRUE(contains(cnn.sentence, "test 84.0 %")) << cnn.sentence;
  const ReportFinding shift = finding_starting(findings, "cnn with shift augmentation");
  EXPECT_EQ(shift.seeds, 1);
  EXPECT_EQ(shift.spread, "");
}

TEST(StudyFindings, SmallImagesQuoteLargestShift) {
  // Images of side 3 are probed with shifts of 1 and 2 pixels only.
  StudyResults results;
  results.runs = {run_record("logreg", "none", 1, 1.0, 0.9, {.shift = {{1, 0.8}, {2, 0.7}}})};
  const auto findings = study_findings(results);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].sentence,
            "logreg: train 100.0 %, test 90.0 %; on perturbed test images 70.0 % under a "
            "2-pixel shift.");
}

TEST(StudyFindings, NoProbesNoClause) {
  StudyResults results;
  RunRecord record = run_record("logreg", "none", 1, 0.95, 0.75, {});
  record.probes.clear();
  results.runs = {record};
  const auto findings = study_findings(results);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].sentence, "logreg: train 95.0 %, test 75.0 %.");
  EXPECT_FALSE(contains(findings[0].sentence, "nan"));
}

TEST(StudyFindings, BaselineWithoutNone) {
  StudyResults results = hand_built_study();
  std::erase_if(results.runs, [](const RunRecord& r) { return r.run.augmentation == "none"; });
  const auto findings = study_findings(results);
  const ReportFinding cnn = finding_starting(findings, "cnn with shift augmentation:");
  EXPECT_TRUE(contains(cnn.sentence, "test 86.2 %")) << cnn.sentence;
  for (const auto& finding : findings) {
    EXPECT_FALSE(contains(finding.sentence, "->")) << finding.sentence;
  }
}

TEST(StudyFindings, ControlRuns) {
  StudyResults results = hand_built_study();
  RunRecord permuted = run_record("cnn", "none", 1, 1.0, 0.62, {});
  permuted.run.permuted = true;
  RunRecord quarter = run_record("cnn", "none", 1, 1.0, 0.7, {});
  quarter.run.train_fraction = 0.25;
  results.control_runs = {permuted, quarter};
  const auto findings = study_findings(results);
  const ReportFinding permutation = finding_starting(findings, "cnn with its pixels permuted");
  EXPECT_EQ(permutation.sentence,
            "cnn with its pixels permuted: test 62.0 % against 84.0 % on the intact images.");
  EXPECT_EQ(permutation.seeds, 1);
  const ReportFinding size = finding_starting(findings, "cnn on 25, 50 and 100 %");
  EXPECT_EQ(size.sentence, "cnn on 25, 50 and 100 % of the training set: test 70.0 %, -, 84.0 %.");
}

TEST(StudyLearningCurves, SgdAccuracyAndFullBatchCost) {
  StudyResults results = hand_built_study();
  results.runs.push_back(run_record("hier3", "none", 1, 0.9, 0.8, {}));
  const LearningCurves curves = learning_curves(results);
  ASSERT_EQ(curves.charts.size(), 2u);

  const LineChart& accuracy = curves.charts[0];
  EXPECT_EQ(accuracy.title, "test accuracy by epoch");
  EXPECT_EQ(accuracy.x_label, "epoch");
  ASSERT_EQ(accuracy.series.size(), 1u);
  EXPECT_EQ(accuracy.series[0].name, "cnn");
  // Epoch 2 has a null test accuracy in seed 1 and no point in seed 2, so it is left out.
  ASSERT_EQ(accuracy.series[0].points.size(), 2u);
  EXPECT_DOUBLE_EQ(accuracy.series[0].points[0].x, 1);
  EXPECT_DOUBLE_EQ(accuracy.series[0].points[0].y, 65);
  EXPECT_DOUBLE_EQ(accuracy.series[0].points[1].x, 3);
  EXPECT_DOUBLE_EQ(accuracy.series[0].points[1].y, 85);

  const LineChart& cost = curves.charts[1];
  EXPECT_EQ(cost.title, "cost by iteration");
  EXPECT_FALSE(cost.y_range.has_value());
  ASSERT_EQ(cost.series.size(), 1u);
  EXPECT_EQ(cost.series[0].name, "logreg");
  ASSERT_EQ(cost.series[0].points.size(), 2u);
  EXPECT_DOUBLE_EQ(cost.series[0].points[0].x, 0);
  EXPECT_DOUBLE_EQ(cost.series[0].points[0].y, 0.7);
  EXPECT_DOUBLE_EQ(cost.series[0].points[1].x, 100);
  EXPECT_NEAR(cost.series[0].points[1].y, 0.3, 1e-12);

  ASSERT_EQ(curves.models_without_curves.size(), 1u);
  EXPECT_EQ(curves.models_without_curves[0], "hier3");
}

TEST(StudyLearningCurves, NoCurveDataNoChart) {
  StudyResults results;
  results.runs = {run_record("logreg", "none", 1, 1.0, 0.7, {}),
                  run_record("cnn", "none", 1, 1.0, 0.8, {}, nlohmann::json::array())};
  const LearningCurves curves = learning_curves(results);
  EXPECT_TRUE(curves.charts.empty());
  EXPECT_EQ(curves.models_without_curves, (std::vector<std::string>{"logreg", "cnn"}));
}

// The section headings of `report`, in order.
std::vector<std::string> headings(const Report& report) {
  std::vector<std::string> names;
  for (const auto& section : report.sections) names.push_back(section.heading);
  return names;
}

size_t figure_count(const ReportSection& section) {
  return static_cast<size_t>(std::count_if(section.blocks.begin(), section.blocks.end(),
                                            [](const ReportBlock& block) {
                                              return std::holds_alternative<ReportFigure>(block);
                                            }));
}

const ReportSection& section_named(const Report& report, const std::string& heading) {
  for (const auto& section : report.sections) {
    if (section.heading == heading) return section;
  }
  throw std::runtime_error("no section " + heading);
}

TEST(StudyReport, SectionsFiguresAndSeeds) {
  fixtures::TempDir dir;
  DataSplits data;
  data.train = fixtures::synthetic_dataset(12, 16, 3, 2, 1);
  data.test = fixtures::synthetic_dataset(6, 16, 3, 2, 2);
  ThreadPool pool(1);
  // No model files exist in DIR/runs, so "What the models learned" stays empty.
  const Report report = build_study_report(hand_built_study(), data, "data/cats.h5", dir.path(), pool);

  EXPECT_EQ(report.title, "felis study of cats.h5");
  EXPECT_TRUE(contains(report.question, "trains cnn, logreg on 12 training images of 16x16x3"))
      << report.question;
  EXPECT_TRUE(contains(report.question,
                       "Seeds completed: 2 of the 5 requested. The time budget ended the study "
                       "before the rest."))
      << report.question;
  EXPECT_EQ(headings(report),
            (std::vector<std::string>{"Accuracy", "Learning curves", "Invariance", "Augmentations",
                                      "What the models learned", "Controls", "Method"}));
  EXPECT_EQ(report.findings.size(), 5u);

  EXPECT_EQ(figure_count(section_named(report, "Learning curves")), 2u);
  EXPECT_EQ(figure_count(section_named(report, "Augmentations")), 1u);
  for (const char* name : {"curve-test-accuracy.svg", "curve-cost.svg", "augmentation-preview.png",
                           "probe-shift.svg"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / "figures" / name)) << name;
  }

  // The augmentation table lists every augmentation studied with its spec.
  const auto& table = std::get<ReportTable>(section_named(report, "Augmentations").blocks[1]);
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0], (std::vector<std::string>{"none", "none"}));
  EXPECT_EQ(table.rows[1], (std::vector<std::string>{"shift", "shift:1"}));
}

TEST(StudyReport, SubsamplesAndBudget) {
  fixtures::TempDir dir;
  DataSplits data;
  data.train = fixtures::synthetic_dataset(12, 16, 3, 2, 1);
  data.test = fixtures::synthetic_dataset(6, 16, 3, 2, 2);
  StudyResults results = hand_built_study();
  results.train_images_available = 100;
  results.test_images_available = 6;
  results.budget_seconds = 240;
  ThreadPool pool(1);
  const Report report = build_study_report(results, data, "cats", dir.path(), pool);
  EXPECT_TRUE(contains(report.question, "trains cnn, logreg on 12 of the 100 training images of "
                                        "16x16x3 and scores them on 6 test images"))
      << report.question;
  EXPECT_TRUE(contains(report.question, "The subsamples are drawn with a fixed seed"))
      << report.question;
  EXPECT_TRUE(contains(report.question, "Seeds completed: 2 of the 5 requested. The time budget "
                                        "of 240 s ended the study before the rest."))
      << report.question;
}

TEST(StudyReport, BudgetEndedTellsHowToResume) {
  fixtures::TempDir dir;
  DataSplits data;
  data.train = fixtures::synthetic_dataset(12, 16, 3, 2, 1);
  data.test = fixtures::synthetic_dataset(6, 16, 3, 2, 2);
  StudyResults results = hand_built_study();
  results.budget_seconds = 240;
  ThreadPool pool(1);
  const Report report = build_study_report(results, data, "cats", dir.path(), pool);
  const std::string resume =
      " To train the remaining seeds, run the same felis study command with --budget 0 and the "
      "same --out. The finished runs are reused.";
  EXPECT_TRUE(contains(report.question, "ended the study before the rest." + resume))
      << report.question;
}

TEST(StudyReport, AllSeedsCompleted) {
  fixtures::TempDir dir;
  DataSplits data;
  data.train = fixtures::synthetic_dataset(12, 16, 3, 2, 1);
  data.test = fixtures::synthetic_dataset(6, 16, 3, 2, 2);
  StudyResults results = hand_built_study();
  results.seeds_requested = 2;
  std::erase_if(results.runs, [](const RunRecord& r) { return r.run.augmentation != "none"; });
  ThreadPool pool(1);
  const Report report = build_study_report(results, data, "cats", dir.path(), pool);
  EXPECT_TRUE(contains(report.question, "Seeds completed: 2 of the 2 requested.")) << report.question;
  EXPECT_TRUE(contains(report.question, "on 12 training images of 16x16x3 and scores them on 6 "
                                        "test images"))
      << report.question;
  EXPECT_FALSE(contains(report.question, "subsample")) << report.question;
  EXPECT_FALSE(contains(report.question, "time budget")) << report.question;
  EXPECT_FALSE(contains(report.question, "--budget 0")) << report.question;
  // When only "none" was studied, the section shows the table and no preview.
  EXPECT_EQ(figure_count(section_named(report, "Augmentations")), 0u);
  EXPECT_FALSE(fs::exists(dir / "figures" / "augmentation-preview.png"));
}

}  // namespace
}  // namespace felis
