/** Types every module shares: the user-facing exception and small utilities. */
package dev.trestle.common;
