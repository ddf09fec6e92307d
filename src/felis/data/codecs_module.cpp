// The module that codecs.cpp loads: the only part of felis linked to OpenCV's imgcodecs.
// Its functions have C names so that dlsym finds them; OpenCV's exceptions pass through.
#include <opencv2/imgcodecs.hpp>

#include <string>
#include <vector>

extern "C" {

__attribute__((visibility("default"))) void felis_read_image_file(const std::string* path,
                                                                  int flags, cv::Mat* image) {
  *image = cv::imread(*path, flags);
}

__attribute__((visibility("default"))) bool felis_encode_image(const std::string* extension,
                                                               const cv::Mat* image,
                                                               std::vector<uchar>* bytes) {
  return cv::imencode(*extension, *image, *bytes);
}

}  // extern "C"
