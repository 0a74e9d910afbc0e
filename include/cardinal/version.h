/*
 * version.h: what `--version` prints (docs/cli.md "Options and help"):
 * CDL_VERSION, the project() version in CMakeLists.txt (a compile
 * definition of the three programs), and the commit the binary was built
 * from, read at every build by cmake/git_commit.cmake (so a long-lived
 * build tree does not report the commit it was configured at).
 */
#ifndef CARDINAL_VERSION_H
#define CARDINAL_VERSION_H

extern const char cdl_git_commit[];
#define CDL_GIT_COMMIT cdl_git_commit

#endif /* CARDINAL_VERSION_H */
