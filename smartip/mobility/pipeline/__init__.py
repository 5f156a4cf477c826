"""The pure numpy processing pipeline: clean, stay points, triplegs, trips, modes."""
