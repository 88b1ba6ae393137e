package dev.trestle.engine.hub;

import java.util.List;

/**
 * A repository's files at one revision.
 *
 * @param repo     the repository as asked for
 * @param revision the commit the listing belongs to (40 hex digits), or the branch name when the hub gave no commit
 * @param files    every file, in the hub's order
 */
public record HubListing(HfRepoRef repo, String revision, List<HubFile> files) {
    public HubListing {
        files = List.copyOf(files);
    }
}
