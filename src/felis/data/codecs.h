// OpenCV's image codecs, loaded on first use.
//
// libopencv_imgcodecs brings about 120 shared libraries with it (GDAL among them). Linking
// it into felis cost every start of the program about 65 ms of CPU time, more than the
// course's whole logistic regression takes. So felis links only OpenCV's core and imgproc,
// and loads the codecs from a small module built beside it (codecs_module.cpp) the first
// time an image is decoded or encoded.
#pragma once

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace felis {

// cv::imread(path, flags). Throws felis::Error when the module cannot be loaded, and lets
// OpenCV's exceptions through.
cv::Mat read_image_file(const std::string& path, int flags);

// cv::imencode(extension, image, bytes). Throws as read_image_file does.
bool encode_image(const std::string& extension, const cv::Mat& image,
                  std::vector<uchar>& bytes);

}  // namespace felis
