//! Result folders: stems that would escape the folder, concurrent writers, crashes between writes, stale files, and destinations that cannot be written.
