// Command deploycheck reads the deployment the way Docker's own tools read it, for the
// test suite (tests/integration/test_deployment.py):
//
//	deploycheck compose FILE [PROFILE...]  the project as Docker Compose loads it (the
//	                                       compose-go loader), as JSON on standard output
//	deploycheck context DIR                the files a build of DIR sends to the builder,
//	                                       DIR/.dockerignore applied by moby's pattern
//	                                       matcher as BuildKit walks it, one per line
//
// Errors go to standard error with exit status 1.
package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

func main() {
	if len(os.Args) < 3 {
		fail(fmt.Errorf("usage: deploycheck compose FILE [PROFILE...] | deploycheck context DIR"))
	}
	var err error
	switch os.Args[1] {
	case "compose":
		err = compose(os.Args[2], os.Args[3:])
	case "context":
		err = buildContext(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "deploycheck:", err)
	os.Exit(1)
}

func compose(file string, profiles []string) error {
	options, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithOsEnv,
		cli.WithProfiles(profiles),
	)
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	out, err := project.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}

func buildContext(dir string) error {
	var patterns []string
	if ignore, err := os.Open(filepath.Join(dir, ".dockerignore")); err == nil {
		patterns, err = ignorefile.ReadAll(ignore)
		ignore.Close()
		if err != nil {
			return err
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	matcher, err := patternmatcher.New(patterns)
	if err != nil {
		return err
	}
	parents := map[string]patternmatcher.MatchInfo{".": {}}
	return filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded, info, err := matcher.MatchesUsingParentResults(rel, parents[filepath.ToSlash(filepath.Dir(rel))])
		if err != nil {
			return err
		}
		if entry.IsDir() {
			if excluded && !matcher.Exclusions() {
				return filepath.SkipDir
			}
			parents[rel] = info
			return nil
		}
		if !excluded {
			fmt.Println(rel)
		}
		return nil
	})
}
