#include "profiler/measure.h"

#include <gtest/gtest.h>

#include <string>

#include "harness/errors.h"

namespace ys::profiler {
namespace {

TEST(MeasureShapes, MoeConfigGivesItsExpertsAndTheDenseLayerOfTheSameWeights) {
  const auto shapes = ffn_shapes(preset("mixtral-8x7b"), 0.25);
  ASSERT_TRUE(shapes.sparse.has_value());
  EXPECT_EQ(shapes.sparse->d_model, 1024);   // 4096 / 4
  EXPECT_EQ(shapes.sparse->d_expert, 3584);  // 14336 / 4
  EXPECT_EQ(shapes.sparse->experts, 8);
  EXPECT_EQ(shapes.sparse->top_k, 2);
  EXPECT_EQ(shapes.dense.d_ff, 8 * 3584);
  // Qwen's routed experts have their own width, not intermediate_size.
  const auto qwen = ffn_shapes(preset("qwen1.5-moe-a2.7b"), 1);
  EXPECT_EQ(qwen.sparse->d_expert, 1408);
  EXPECT_EQ(qwen.sparse->experts, 60);
}

TEST(MeasureShapes, DenseConfigHasNoSparseLayerAndWidthsRoundToSixteen) {
  const auto shapes = ffn_shapes(preset("llama-2-7b"), 0.1);
  EXPECT_FALSE(shapes.sparse.has_value());
  EXPECT_EQ(shapes.dense.d_model, 416);  // 409.6 -> 26 x 16
  EXPECT_EQ(shapes.dense.d_ff, 1104);    // 1100.8 -> 69 x 16
  EXPECT_THROW(ffn_shapes(preset("llama-2-7b"), 0), input_error);
  EXPECT_THROW(ffn_shapes(preset("llama-2-7b"), 1.5), input_error);
}

TEST(MeasureShapes, FittingScaleHalvesUntilWeightsAndFlopsFit) {
  // Mixtral at 1/8: d_model 512, dense width 14336: 88 MB of weights, 45 GFLOP at 1024 tokens;
  // at 1/4 the pass would be 180 GFLOP.
  EXPECT_DOUBLE_EQ(fitting_scale(preset("mixtral-8x7b"), 1024, 512.0 * (1 << 20), 64e9), 0.125);
  EXPECT_DOUBLE_EQ(fitting_scale(preset("llama-2-7b"), 1, 1e12, 1e15), 1.0);
}

TEST(MeasureFfn, TimesBothLayersAtEveryTokenCount) {
  measure_options options;
  options.scale = 1.0 / 32;
  options.tokens = {1, 3};
  options.min_seconds_per_point = 0;
  options.show_progress = false;
  const auto m = measure_ffn(preset("qwen1.5-moe-a2.7b"), options);
  EXPECT_EQ(m.backend, "cpu");
  EXPECT_GT(m.peak_flops, 0);
  EXPECT_GT(m.bandwidth_bytes, 0);
  ASSERT_EQ(m.points.size(), 2U);
  for (const auto& p : m.points) {
    ASSERT_TRUE(p.sparse.has_value());
    EXPECT_GT(p.dense.seconds, 0);
    EXPECT_GT(p.sparse->seconds, 0);
    // Each token picks 4 of 60 experts: at most 4 x tokens distinct experts.
    EXPECT_GE(p.sparse->experts_touched, 4);
    EXPECT_LE(p.sparse->experts_touched, 4.0 * static_cast<double>(p.tokens));
    EXPECT_DOUBLE_EQ(p.dense.cost.flops, dense_cost(m.shapes.dense, p.tokens).flops);
  }
  const auto j = to_json(m);
  EXPECT_EQ(j["points"].size(), 2U);
  // Router (d x 60) + 4 experts of 3 x d x 48 over 60 experts' worth: at this small width the
  // router adds 0.7 points to the 4/60 of the experts alone.
  EXPECT_EQ(m.shapes.sparse->d_expert, 48);  // 1408 / 32 = 44, rounded to a multiple of 16
  EXPECT_NEAR(j["points"][0]["flop_ratio"].get<double>(), (60.0 + 3 * 4 * 48) / (3 * 60 * 48),
              1e-12);
}

TEST(MeasureFfn, SortsAndDeduplicatesTheSweepAndReportsTheSpread) {
  measure_options options;
  options.scale = 1.0 / 32;
  options.tokens = {8, 2, 8};
  options.min_seconds_per_point = 0;
  options.show_progress = false;
  options.threads = 1;
  const auto m = measure_ffn(preset("llama-2-7b"), options);
  ASSERT_EQ(m.points.size(), 2U);
  EXPECT_EQ(m.points[0].tokens, 2);
  EXPECT_EQ(m.points[1].tokens, 8);
  EXPECT_EQ(m.threads, 1);
  EXPECT_FALSE(m.points[0].sparse.has_value());
  const auto& times = m.points[1].dense.times;
  EXPECT_GE(times.passes, 3);
  EXPECT_LE(times.fastest, times.median);
  EXPECT_LE(times.median, times.slowest);
  EXPECT_DOUBLE_EQ(m.points[1].dense.seconds, times.median);
  const auto j = to_json(m);
  EXPECT_EQ(j["precision"], "float32");
  EXPECT_EQ(j["points"][1]["dense"]["passes"], times.passes);
  EXPECT_GE(j["points"][1]["dense"]["spread"].get<double>(), 0.0);
}

TEST(MeasureShapes, AutomaticScaleDoesNotDependOnTheSweep) {
  // Sized at 1024 tokens: the same shapes for --tokens 1 and for --tokens 16384.
  EXPECT_DOUBLE_EQ(
      fitting_scale(preset("mixtral-8x7b"), kScaleReferenceTokens, 512.0 * (1 << 20), 64e9), 0.125);
  // A scale that would leave fewer than 16 hidden units is refused, naming the smallest.
  try {
    ffn_shapes(preset("llama-2-7b"), 0.001);
    FAIL() << "expected a throw";
  } catch (const input_error& error) {
    EXPECT_NE(std::string(error.what()).find("0.00391"), std::string::npos) << error.what();
  }
}

TEST(MeasureFfn, RefusesUnknownBackendsAndEmptySweeps) {
  measure_options options;
  options.backend = "tpu";
  EXPECT_THROW(measure_ffn(preset("llama-2-7b"), options), input_error);
  options.backend = "cpu";
  options.tokens = {};
  EXPECT_THROW(measure_ffn(preset("llama-2-7b"), options), input_error);
  options.tokens = {0};
  EXPECT_THROW(measure_ffn(preset("llama-2-7b"), options), input_error);
  options.tokens = {kMaxMeasuredTokens + 1};  // would allocate gigabytes of activations
  EXPECT_THROW(measure_ffn(preset("llama-2-7b"), options), input_error);
}

}  // namespace
}  // namespace ys::profiler
