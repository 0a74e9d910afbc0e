# git_commit.cmake: run at every build (the cdl_git_commit target in
# CMakeLists.txt) to write the commit --version prints (docs/cli.md
# "Options and help") into OUT as a C definition. The file is rewritten
# only when the commit changed, so an unchanged tree relinks nothing.
# Usage: cmake -DSOURCE_DIR=DIR -DOUT=FILE -P git_commit.cmake
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown") # a tree without git, e.g. an unpacked tarball
endif()
string(CONCAT text "/* Written by cmake/git_commit.cmake at build time. */\n"
       "const char cdl_git_commit[] = \"${commit}\";\n")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
